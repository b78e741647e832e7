import t from 'tap'
import { sha256 } from '../../src/crypto.ts'
import { randomBytes } from 'node:crypto'
import { postgresOAuthStore as storeWithKey } from '../../src/oauth/store/postgres.ts'
import { createUpstream } from '../../src/oauth/upstream.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { signUp, supabaseUser } from './helpers.ts'

const request = {
  clientId: 'c', redirectUri: 'http://127.0.0.1/cb', state: 's', codeChallenge: 'x'.repeat(43), scope: 'openid', resource: 'http://x/mcp',
  browserHash: 'h', promptConsent: false, providerVerifier: undefined, user: undefined, session: undefined,
}

const TOKEN_KEY = randomBytes(32)
const postgresOAuthStore = (db: Parameters<typeof storeWithKey>[0]) => storeWithKey(db, TOKEN_KEY)

for (const backend of backends()) {
  t.test(`oauth store on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_MODE: 'oauth' })
    t.teardown(() => server.dispose())
    const store = postgresOAuthStore(server.db)
    const upstream = createUpstream(server.config)

    const secret = await store.secret('test')
    t.equal(secret.length, 32)
    t.same(await postgresOAuthStore(server.db).secret('test'), secret, 'every instance reads the same secret')

    t.equal(await store.hit('b', 60), 1)
    t.equal(await store.hit('b', 60), 2, 'hits add up within the window')
    await server.db.query("update atoms_oauth.rate_limits set window_start = now() - interval '2 minutes' where bucket = 'b'")
    t.equal(await store.hit('b', 60), 1, 'a new window starts from one')

    await signUp(server, 'ida@example.com', 'a long enough secret')
    const forgotten = await upstream.signInWithPassword('ida@example.com', 'a long enough secret')
    const unredeemed = await upstream.signInWithPassword('ida@example.com', 'a long enough secret')
    const kept = await upstream.signInWithPassword('ida@example.com', 'a long enough secret')
    await store.authorizations.create('pending-expired', request, 0)
    await store.authorizations.update('pending-expired', { user: { id: forgotten.userId, email: forgotten.email }, session: forgotten })
    await store.authorizations.create('pending-live', request, 600)
    t.equal(await store.authorizations.find('pending-expired'), undefined, 'an expired request is not found')
    const code = { clientId: 'c', redirectUri: request.redirectUri, codeChallenge: request.codeChallenge, scope: 'openid', resource: request.resource, userId: unredeemed.userId }
    await store.codes.create('code-expired', { ...code, session: unredeemed }, 0)
    await store.codes.create('code-live', { ...code, session: kept }, 60)
    const idle = await store.clients.create({ clientId: 'idle', secretHash: null, metadata: { redirect_uris: ['https://a.example/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'], scope: 'openid', application_type: 'web' } })
    await server.db.query("update atoms_oauth.clients set last_used_at = now() - interval '31 days' where client_id = $1", [idle.clientId])

    const removed = await store.sweep()
    t.equal(removed, 3, 'the expired request, the expired code and the idle client')
    t.ok(await store.authorizations.find('pending-live'), 'live requests stay')
    t.equal((await server.db.query('select 1 from atoms_oauth.authorization_codes where code_hash = $1', [sha256('code-live')])).rows.length, 1, 'live codes stay')
    const left = JSON.stringify((await server.db.query('select * from atoms_oauth.pending_authorizations')).rows) +
      JSON.stringify((await server.db.query('select * from atoms_oauth.authorization_codes')).rows)
    t.notOk(left.includes(forgotten.refreshToken) || left.includes(unredeemed.refreshToken), 'nothing is left of the abandoned sessions, not even sealed')
    t.equal((await supabaseUser(server, kept.accessToken)).status, 200, 'the session of a live code lives on')
  })
}

for (const backend of backends()) {
  t.test(`what the store keeps of a session is sealed by the secret the row is found by, on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_MODE: 'oauth' })
    t.teardown(() => server.dispose())
    const store = postgresOAuthStore(server.db)
    const session = { accessToken: 'header.payload.access-signature', refreshToken: 'refresh-token-value', expiresAt: 2_000_000_000, userId: 'u1', email: 'u@example.com' }
    const handle = 'the-handle-the-browser-holds-0123456789abcdef'
    const everything = async () => {
      let text = ''
      for (const table of ['pending_authorizations', 'authorization_codes', 'refresh_tokens']) {
        text += JSON.stringify((await server.db.query(`select * from atoms_oauth.${table}`)).rows)
      }
      return text
    }
    const inTheClear = async (...secrets: string[]) => {
      const text = await everything()
      return secrets.filter((secret) => text.includes(secret))
    }

    await store.authorizations.create(handle, request, 600)
    await store.authorizations.update(handle, { user: { id: 'u1', email: 'u@example.com' }, session, providerVerifier: 'provider-verifier-value' })
    t.same(await inTheClear(handle, session.accessToken, session.refreshToken, 'provider-verifier-value'), [], 'the pending request keeps the handle\'s hash and sealed values only')
    const found = await store.authorizations.find(handle)
    t.same([found?.session, found?.providerVerifier], [session, 'provider-verifier-value'], 'the handle opens them')

    // Moved onto another request's row, a sealed session does not open with that row's handle.
    await store.authorizations.create('another-handle-0123456789abcdef0123456789ab', request, 600)
    await server.db.query('update atoms_oauth.pending_authorizations set sealed_session = (select sealed_session from atoms_oauth.pending_authorizations where handle_hash = $1) where handle_hash = $2', [
      sha256(handle), sha256('another-handle-0123456789abcdef0123456789ab'),
    ])
    t.equal((await store.authorizations.find('another-handle-0123456789abcdef0123456789ab'))?.session, undefined, 'a sealed session opens only on its own row')

    const code = 'the-code-the-client-holds-0123456789abcdef012'
    const issued = { clientId: 'c', redirectUri: request.redirectUri, codeChallenge: request.codeChallenge, scope: 'openid', resource: request.resource, userId: 'u1', session }
    await store.codes.create(code, issued, 60)
    t.same(await inTheClear(code, session.accessToken, session.refreshToken), [], 'the code keeps its hash and a sealed session')
    const answer = { access_token: session.accessToken, refresh_token: session.refreshToken, token_type: 'Bearer' }
    const redeem = () => store.codes.redeem(code, 'verifier-hash', 10, () => {}, () => answer)
    t.same(await redeem(), { outcome: 'issued', response: answer, code: issued })
    t.same(await inTheClear(session.accessToken, session.refreshToken), [], 'the answer kept for a replay is sealed too')
    t.same(await redeem(), { outcome: 'replayed', response: answer }, 'and opens for the same code within the window')

    const rotated = { access_token: 'header.payload.next-signature', refresh_token: 'next-refresh-token', token_type: 'Bearer' }
    t.equal((await store.refreshTokens.claim(session.refreshToken, 'c', 10)).kind, 'claimed')
    const renewed = { ...session, accessToken: 'header.payload.renewed-signature', refreshToken: 'renewed-supabase-refresh' }
    const grant = { clientId: 'c', userId: 'u1', scope: 'openid', resource: request.resource, sessionId: undefined, grantId: undefined }
    await store.refreshTokens.complete(session.refreshToken, rotated, grant, renewed)
    t.same(
      await inTheClear(session.refreshToken, rotated.access_token, rotated.refresh_token, renewed.accessToken, renewed.refreshToken), [],
      'a rotated token keeps its successor sealed, and the successor the Supabase session behind it',
    )
    t.same((await store.refreshTokens.find(rotated.refresh_token))?.session, renewed, 'which the successor opens')
    t.same(await store.refreshTokens.claim(session.refreshToken, 'c', 10), { kind: 'replay', response: rotated }, 'which the old token opens within the window')
  })
}
