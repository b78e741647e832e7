import t from 'tap'
import { randomBytes } from 'node:crypto'
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { boundAccessTokens } from '../../src/oauth/access-tokens.ts'
import { KEY_ROTATION_SECONDS, keyRing } from '../../src/oauth/signing-keys.ts'
import type { UpstreamSession } from '../../src/oauth/upstream.ts'

/** The shared secrets table of a database, as every instance on it sees it. */
function sharedSecrets() {
  const secrets = new Map<string, Buffer>()
  return {
    secrets,
    async secret(name: string) {
      if (!secrets.has(name)) secrets.set(name, randomBytes(32))
      return secrets.get(name)!
    },
  }
}

const ROTATION_MS = KEY_ROTATION_SECONDS * 1000

t.test('rotation: a key is published before it signs and after, so no token is refused by it', async (t) => {
  const shared = sharedSecrets()
  let now = 1_000 * ROTATION_MS + 5
  const ring = keyRing({ secret: shared.secret, now: () => now })
  const first = await ring.signingKey()
  const published = (await ring.jwks()).keys.map((key) => key.kid)
  t.equal(published.length, 3)
  t.ok(published.includes(first.kid), 'the signing key is published')
  t.notOk((await ring.jwks()).keys.some((key) => 'd' in key), 'never its private part')

  now += ROTATION_MS
  const second = await ring.signingKey()
  t.not(second.kid, first.kid, 'a new period signs with a new key')
  t.ok(published.includes(second.kid), 'which was published a whole period before it signed')
  t.ok(await ring.keyFor({ alg: 'ES256', kid: first.kid }), 'the previous key still verifies')
  now += ROTATION_MS
  t.equal(await ring.keyFor({ alg: 'ES256', kid: first.kid }), undefined, 'two periods on, it is withdrawn')
  t.notOk((await ring.jwks()).keys.some((key) => key.kid === first.kid))
})

t.test('every instance on one database derives the same keys; nothing else is looked up', async (t) => {
  const shared = sharedSecrets()
  const a = keyRing({ secret: shared.secret })
  const b = keyRing({ secret: shared.secret })
  const signer = await a.signingKey()
  t.same((await b.jwks()).keys, (await a.jwks()).keys, 'the same published keys')
  t.ok(await b.keyFor({ alg: 'ES256', kid: signer.kid }), "B verifies A's tokens")
  const other = await keyRing({ secret: sharedSecrets().secret }).signingKey()
  t.equal(await a.keyFor({ alg: 'ES256', kid: other.kid }), undefined, 'a key of another database is unknown')
  const period = Number(/^at(\d+)-/.exec(signer.kid)![1])
  const count = shared.secrets.size
  for (const kid of [`at${period + 40}-${'a'.repeat(22)}`, 'some-uuid', `at${period}-${'a'.repeat(22)}`]) {
    t.equal(await a.keyFor({ alg: 'ES256', kid }), undefined, `kid ${kid}`)
  }
  t.equal(await a.keyFor({ alg: 'HS256', kid: signer.kid }), undefined, 'another algorithm')
  t.equal(shared.secrets.size, count, 'a token cannot make the ring create secrets for far periods')
})

t.test('bound tokens: claims, lifetime capped by the Supabase session, verifiable with the published keys', async (t) => {
  const ring = keyRing({ secret: sharedSecrets().secret })
  const urls = { issuer: 'https://mcp.example.com', resource: 'https://mcp.example.com/mcp' }
  const issuer = boundAccessTokens(ring, { oauth: { accessTokenLifetimeSeconds: 120 } as any }, urls)
  const respond = await issuer.responder()
  const now = Math.floor(Date.now() / 1000)
  const supabaseClaims = { sub: 'u-1', email: 'ada@example.com', role: 'authenticated', aal: 'aal1', session_id: 's-1', app_metadata: { tenant: 't' }, aud: 'authenticated', iss: 'https://x.supabase.co/auth/v1' }
  const fakeSupabaseToken = `e30.${Buffer.from(JSON.stringify(supabaseClaims)).toString('base64url')}.sig`
  const session: UpstreamSession = { accessToken: fakeSupabaseToken, refreshToken: 'r-1', expiresAt: now + 3600, userId: 'u-1', email: 'ada@example.com' }
  const grant = { clientId: 'c-1', scope: 'openid', resource: urls.resource }

  const long = respond(session, grant, true)
  t.equal(long.expires_in, 120, 'OAUTH_ACCESS_TOKEN_LIFETIME when the session lives longer')
  t.match(long.refresh_token, /^[\w-]{43}$/, 'a refresh token of ours, 256 random bits')
  t.not(long.refresh_token, 'r-1', 'not the Supabase one')
  t.equal(long.scope, 'atoms:read atoms:write openid', 'a grant from before the resource scopes is read and write')
  const keys = await ring.jwks()
  const { payload } = await jwtVerify(long.access_token, async (header) => (await ring.keyFor(header))!.key as any, { issuer: urls.issuer, audience: urls.resource, typ: 'at+jwt' })
  t.match(payload, { sub: 'u-1', client_id: 'c-1', scope: 'atoms:read atoms:write openid', email: 'ada@example.com', role: 'authenticated', aal: 'aal1', session_id: 's-1', app_metadata: { tenant: 't' } })
  t.ok(payload.jti)
  t.equal(decodeProtectedHeader(long.access_token).kid, keys.keys[1]!.kid, 'signed with the current key')

  const short = respond({ ...session, expiresAt: now + 45 }, grant, false)
  t.ok(Number(short.expires_in) <= 45, 'never past the Supabase access token')
  t.ok(decodeJwt(short.access_token).exp! <= now + 45)
  t.notOk(short.refresh_token)
  t.notOk(long.access_token.includes(fakeSupabaseToken.split('.')[1]!), 'the Supabase token is not inside ours')
})
