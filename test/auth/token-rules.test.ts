import t from 'tap'
import { parseDuration, loadConfig, ConfigError } from '../../src/config.ts'
import { algorithmForJwk } from '../../src/auth/strategies/key-store.ts'
import { checkClaims, REFUSAL } from '../../src/auth/strategies/token-claims.ts'

t.test('each published key verifies one algorithm, derived from its type', async (t) => {
  t.equal(algorithmForJwk({ kty: 'EC', crv: 'P-256' }), 'ES256')
  t.equal(algorithmForJwk({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' }), 'ES256')
  t.equal(algorithmForJwk({ kty: 'RSA' }), 'RS256')
  t.equal(algorithmForJwk({ kty: 'OKP', crv: 'Ed25519' }), 'EdDSA')
  t.equal(algorithmForJwk({ kty: 'EC', crv: 'P-256', alg: 'HS256' }), undefined, 'a contradicting alg disqualifies the key')
  t.equal(algorithmForJwk({ kty: 'RSA', alg: 'HS256' }), undefined)
  t.equal(algorithmForJwk({ kty: 'oct', k: 'c2VjcmV0' }), undefined, 'no symmetric key from a JWKS')
  t.equal(algorithmForJwk({ kty: 'EC', crv: 'P-256', use: 'enc' }), undefined, 'encryption keys are not signing keys')
  t.equal(algorithmForJwk({ kty: 'EC', crv: 'secp256k1' }), undefined)
})

t.test('claim rules', async (t) => {
  const expected = { issuer: 'https://p.example/auth/v1', audience: 'authenticated' }
  const good = { sub: 'u', role: 'authenticated', exp: 1_000, iss: expected.issuer, aud: 'authenticated' }
  t.doesNotThrow(() => checkClaims(good, expected, 900))
  t.doesNotThrow(() => checkClaims({ ...good, aud: ['other', 'authenticated'] }, expected, 900), 'aud may be a list')
  t.doesNotThrow(() => checkClaims(good, expected, 1_029), '29 s after exp is within the leeway')
  t.throws(() => checkClaims(good, expected, 1_030), { message: REFUSAL.expired })
  t.throws(() => checkClaims({ ...good, nbf: 1_000 }, expected, 969), { message: REFUSAL.notYetValid })
  t.throws(() => checkClaims({ ...good, iss: 'https://q.example/auth/v1' }, expected, 900), { message: REFUSAL.issuer })
  t.throws(() => checkClaims({ ...good, aud: 'service' }, expected, 900), { message: REFUSAL.audience })
  t.throws(() => checkClaims({ ...good, role: undefined }, expected, 900), { message: REFUSAL.missingClaim('role') })
  t.throws(() => checkClaims({ ...good, sub: '' }, expected, 900), { message: REFUSAL.missingClaim('sub') })
})

t.test('login rate-limit settings', async (t) => {
  t.equal(parseDuration('1 minute'), 60_000)
  t.equal(parseDuration('30 s'), 30_000)
  t.equal(parseDuration('2 hours'), 7_200_000)
  t.equal(parseDuration('500'), 500, 'a bare number is milliseconds')
  t.equal(parseDuration('0 s'), undefined)
  t.equal(parseDuration('soon'), undefined)
  const config = loadConfig({}, {})
  t.same(config.loginRateLimit, { max: 10, windowMs: 60_000 }, 'defaults')
  t.throws(() => loadConfig({ LOGIN_RATE_LIMIT_WINDOW: 'a while' }, {}), ConfigError)
  t.throws(() => loadConfig({ LOGIN_RATE_LIMIT_MAX: '0' }, {}), ConfigError)
})
