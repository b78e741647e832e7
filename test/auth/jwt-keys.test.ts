import t from 'tap'
import { createServer } from 'node:http'
import { randomUUID } from 'node:crypto'
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { CHALLENGE_INVALID_TOKEN, probe, probeRoutes } from '../helpers/auth.ts'

const ISSUER = 'https://project.example/auth/v1'
const SECRET = 'a-legacy-hs256-project-secret-of-40-chars!'

/** A project JWKS served over HTTP, whose keys the test changes, counting how often it is read. */
async function jwksServer() {
  const state = { keys: [] as JWK[], reads: 0 }
  const server = createServer((request, response) => {
    if (request.url !== '/jwks.json') {
      response.writeHead(404).end()
      return
    }
    state.reads++
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return { state, url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

async function signingKey(alg: 'ES256' | 'RS256', kid: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { kid, alg, privateKey, publicKey, jwk }
}

function claims(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000)
  return { iss: ISSUER, sub: randomUUID(), aud: 'authenticated', iat: now, exp: now + 600, email: 'kim@example.com', role: 'authenticated', aal: 'aal1', session_id: randomUUID(), ...overrides }
}

const sign = (payload: Record<string, unknown>, alg: string, kid: string | undefined, key: CryptoKey | Uint8Array) =>
  new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT', ...(kid ? { kid } : {}) }).sign(key)

// No database is involved beyond start-up: one backend is enough.
const backend = backends()[0]!

t.test('jwt mode: key rotation, algorithm confusion, leeway', async (t) => {
  const jwks = await jwksServer()
  t.teardown(() => jwks.close())
  const es = await signingKey('ES256', 'key-one')
  const rsa = await signingKey('RS256', 'key-rsa')
  jwks.state.keys = [es.jwk, rsa.jwk]
  const server = await startTestServer(
    backend,
    { AUTH_MODE: 'jwt', JWKS_URL: `${jwks.url}/jwks.json`, JWT_ISSUER: ISSUER, SUPABASE_JWT_SECRET: SECRET },
    { extraRoutes: probeRoutes },
  )
  t.teardown(() => server.dispose())
  const base = server.config.baseUrl
  t.equal(jwks.state.reads, 0, 'the JWKS is fetched on first use, not at start')

  const first = claims()
  const answer = await probe(base, await sign(first, 'ES256', es.kid, es.privateKey))
  t.equal(answer.status, 200)
  t.equal(answer.body.userId, first.sub)
  t.equal(answer.body.mode, 'jwt')
  t.equal((await probe(base, await sign(claims(), 'RS256', rsa.kid, rsa.privateKey))).status, 200, 'RS256 keys verify too')
  t.equal((await probe(base, await sign(claims(), 'HS256', undefined, new TextEncoder().encode(SECRET)))).status, 200, 'HS256 with SUPABASE_JWT_SECRET, during a rotation')
  t.equal(jwks.state.reads, 1, 'one fetch served every key')

  const next = await signingKey('ES256', 'key-two')
  jwks.state.keys = [es.jwk, rsa.jwk, next.jwk]
  t.equal((await probe(base, await sign(claims(), 'ES256', next.kid, next.privateKey))).status, 200, 'a token of the new key is accepted')
  t.equal(jwks.state.reads, 2, 'the unknown kid caused exactly one refetch')
  const stranger = await signingKey('ES256', 'key-three')
  const unknown = await probe(base, await sign(claims(), 'ES256', stranger.kid, stranger.privateKey))
  t.equal(unknown.status, 401)
  t.match(unknown.challenge, CHALLENGE_INVALID_TOKEN)
  t.equal(jwks.state.reads, 2, 'a second unknown kid within 30 s causes no refetch')

  const confusions: Record<string, string> = {
    'HS256 signed with the RSA public PEM': await sign(claims(), 'HS256', rsa.kid, new TextEncoder().encode(await exportSPKI(rsa.publicKey))),
    'HS256 signed with the EC public JWK': await sign(claims(), 'HS256', es.kid, new TextEncoder().encode(JSON.stringify(es.jwk))),
    'an ES256 key named as RS256': await sign(claims(), 'ES256', rsa.kid, es.privateKey),
    'HS256 signed with another secret': await sign(claims(), 'HS256', undefined, new TextEncoder().encode('x'.repeat(40))),
  }
  for (const [name, token] of Object.entries(confusions)) {
    const refused = await probe(base, token)
    t.equal(refused.status, 401, name)
    t.match(refused.challenge, CHALLENGE_INVALID_TOKEN, name)
  }

  await jwks.close()
  t.equal((await probe(base, await sign(claims(), 'ES256', es.kid, es.privateKey))).status, 200, 'with the JWKS unreachable, known keys keep working')

  await jwks.close()
  t.equal((await probe(base, await sign(claims(), 'ES256', es.kid, es.privateKey))).status, 200, 'with the JWKS unreachable, known keys keep working')

  const now = Math.floor(Date.now() / 1000)
  t.equal((await probe(base, await sign(claims({ exp: now - 10 }), 'ES256', es.kid, es.privateKey))).status, 200, 'expired 10 s ago: within the leeway')
  t.equal((await probe(base, await sign(claims({ exp: now - 40 }), 'ES256', es.kid, es.privateKey))).status, 401, 'expired 40 s ago: refused')
  t.equal((await probe(base, await sign(claims({ nbf: now + 60 }), 'ES256', es.kid, es.privateKey))).status, 401, 'not valid for another minute: refused')
  t.equal((await probe(base, await sign(claims({ nbf: now + 10 }), 'ES256', es.kid, es.privateKey))).status, 200, 'valid in 10 s: within the leeway')
})

t.test('jwt mode: a project without a JWKS refuses tokens with 401, not 503', async (t) => {
  const jwks = await jwksServer()
  t.teardown(() => jwks.close())
  const es = await signingKey('ES256', 'key-one')
  const server = await startTestServer(backend, { AUTH_MODE: 'jwt', JWKS_URL: `${jwks.url}/missing.json`, JWT_ISSUER: ISSUER }, { extraRoutes: probeRoutes })
  t.teardown(() => server.dispose())
  const answer = await probe(server.config.baseUrl, await sign(claims(), 'ES256', es.kid, es.privateKey))
  t.equal(answer.status, 401)
  t.match(answer.body.error_description, /key this server does not know/)
})
