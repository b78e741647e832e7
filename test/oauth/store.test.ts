import t from 'tap'
import { sweepExpired } from '../../src/oauth/index.ts'
import { postgresOAuthStore } from '../../src/oauth/store/postgres.ts'
import { createUpstream } from '../../src/oauth/upstream.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { signUp, supabaseUser } from './helpers.ts'

const request = {
  clientId: 'c', redirectUri: 'http://127.0.0.1/cb', state: 's', codeChallenge: 'x'.repeat(43), scope: 'openid', resource: 'http://x/mcp',
  browserHash: 'h', promptConsent: false, providerVerifier: undefined, user: undefined, session: undefined,
}

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

    const removed = await sweepExpired(store, upstream)
    t.equal(removed, 3, 'the expired request, the expired code and the idle client')
    t.ok(await store.authorizations.find('pending-live'), 'live requests stay')
    t.equal((await server.db.query("select 1 from atoms_oauth.authorization_codes where code_hash = 'code-live'")).rows.length, 1, 'live codes stay')
    t.equal((await supabaseUser(server, forgotten.accessToken)).status, 403, 'the session of an abandoned request is ended')
    t.equal((await supabaseUser(server, unredeemed.accessToken)).status, 403, 'and that of a code never redeemed')
    t.equal((await supabaseUser(server, kept.accessToken)).status, 200, 'the others live on')
  })
}
