import t from 'tap'
import { decodeJwt } from 'jose'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { CHALLENGE_INVALID_TOKEN, CHALLENGE_NO_TOKEN, forgeries, probe, probeRoutes, signedInUser } from '../helpers/auth.ts'

const MODES = ['jwt', 'bearer', 'simple', 'oauth'] as const
// These cases are about Supabase session tokens; oauth mode takes them only when it hands them
// out (OAUTH_ACCESS_TOKENS=supabase). Its own tokens: test/oauth/bound-tokens.test.ts.
const ENV = { oauth: { OAUTH_ACCESS_TOKENS: 'supabase' } } as Record<string, Record<string, string>>

for (const backend of backends()) {
  for (const mode of MODES) {
    t.test(`AUTH_MODE=${mode} on ${backend.name}`, async (t) => {
      const server = await startTestServer(backend, { AUTH_MODE: mode, ...ENV[mode] }, { extraRoutes: probeRoutes })
      t.teardown(() => server.dispose())
      const base = server.config.baseUrl
      const alice = await signedInUser(base, server.anonKey, 'alice@example.com')

      t.test('a supabase-js token authenticates, as the same user getUser reports', async (t) => {
        const reported = await alice.supabase.auth.getUser(alice.session.access_token)
        const answer = await probe(base, alice.session.access_token)
        t.equal(answer.status, 200)
        t.equal(answer.body.userId, reported.data.user!.id)
        t.equal(answer.body.email, 'alice@example.com')
        t.equal(answer.body.role, 'authenticated')
        t.equal(answer.body.mode, mode)
        t.equal(answer.body.sessionId, decodeJwt(alice.session.access_token).session_id)
        t.equal(answer.body.aal, 'aal1')
        t.equal(answer.body.expiresAt, alice.session.expires_at)
        t.same(answer.body.scopes, [])
      })

      t.test('no token: 401 with a bare challenge', async (t) => {
        for (const headers of [{}, { authorization: 'Basic YWxpY2U6cGFzc3dvcmQ=' }] as Record<string, string>[]) {
          const answer = await probe(base, undefined, '/test/whoami', headers)
          t.equal(answer.status, 401)
          t.equal(answer.challenge, CHALLENGE_NO_TOKEN)
          t.equal(answer.body.error, 'invalid_token')
          t.type(answer.body.error_description, 'string')
        }
      })

      t.test('refused tokens: 401 with error="invalid_token"', async (t) => {
        const forged = await forgeries(server.config.dataDir, alice.session.access_token)
        const cases: Record<string, string> = {
          garbage: forged.garbage,
          expired: forged.expired,
          'signed by another key (same kid)': forged.otherKeySameKid,
          'signed by another key (unknown kid)': forged.otherKeyOtherKid,
          'alg none': forged.algNone,
          'HS256 with the public JWK as secret': forged.hs256WithPublicJwk,
          'HS256 with the public PEM as secret': forged.hs256WithPublicPem,
          'wrong iss': forged.wrongIssuer,
          'wrong aud': forged.wrongAudience,
          'no role': forged.noRole,
        }
        for (const [name, token] of Object.entries(cases)) {
          const answer = await probe(base, token)
          t.equal(answer.status, 401, `${name}: 401`)
          t.match(answer.challenge, CHALLENGE_INVALID_TOKEN, `${name}: challenge`)
          t.equal(answer.body.error, 'invalid_token', `${name}: body`)
        }
        const malformed = await probe(base, undefined, '/test/whoami', { authorization: 'Bearer' })
        t.equal(malformed.status, 401)
        t.match(malformed.challenge, CHALLENGE_INVALID_TOKEN, 'an empty Bearer header is a malformed token')
      })

      t.test('scopes: 403 insufficient_scope without it, 200 with it', async (t) => {
        const without = await probe(base, alice.session.access_token, '/test/needs-scope')
        t.equal(without.status, 403)
        t.equal(without.body.error, 'insufficient_scope')
        t.match(without.challenge, /^Bearer realm="atoms-mcp", error="insufficient_scope", error_description="[^"]+", scope="entities:write"$/)
        const forged = await forgeries(server.config.dataDir, alice.session.access_token)
        const withScope = await probe(base, forged.withScope, '/test/needs-scope')
        t.equal(withScope.status, 200)
        t.equal(withScope.body.userId, alice.userId)
      })
    })
  }
}
