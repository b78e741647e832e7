import t from 'tap'
import { SignJWT, generateKeyPair } from 'jose'
import { auth } from '@modelcontextprotocol/sdk/client/auth.js'
import { ConfigError, loadConfig } from '../../src/config.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { signUp } from './helpers.ts'
import { SupabaseConsentProvider, whoamiWith } from './supabase-consent.ts'

for (const backend of backends()) {
  t.test(`OAUTH_UPSTREAM=delegate: the SDK client signs in at Supabase's OAuth server on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_MODE: 'oauth', OAUTH_UPSTREAM: 'delegate', AUTH_OAUTH_SERVER_ALLOW_DYNAMIC_REGISTRATION: 'true' })
    t.teardown(() => server.dispose())
    const base = server.config.baseUrl
    const userId = await signUp(server, 'dee@example.com', 'correct horse battery')
    const serverUrl = `${base}/mcp`

    const unauthenticated = await fetch(serverUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) })
    t.equal(unauthenticated.status, 401)
    t.match(unauthenticated.headers.get('www-authenticate') ?? '', `resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`, 'the 401 names our resource metadata')
    const prm: any = await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp`)).json()
    t.same(prm.authorization_servers, [`${base}/auth/v1`], 'which names Supabase\'s authorization server')
    t.equal(prm.resource, serverUrl)
    t.equal((await fetch(`${base}/.well-known/oauth-authorization-server`)).status, 404, 'no authorization server of our own')
    t.equal((await fetch(`${base}/register`, { method: 'POST' })).status, 404, 'and no registration endpoint')

    const provider = new SupabaseConsentProvider({ email: 'dee@example.com', password: 'correct horse battery' })
    t.equal(await auth(provider, { serverUrl }), 'REDIRECT')
    t.ok(provider.information?.client_id, 'the client registered at Supabase\'s OAuth server')
    t.equal(provider.lastRedirect?.searchParams.get('iss') ?? `${base}/auth/v1`, `${base}/auth/v1`)
    t.ok(provider.pendingCode, 'the consent page sent the browser back with a code')
    t.equal(await auth(provider, { serverUrl, authorizationCode: provider.pendingCode! }), 'AUTHORIZED')
    t.ok(provider.stored?.access_token, 'the code became Supabase tokens')

    const me = await whoamiWith(provider, serverUrl)
    t.same([me.id, me.email, me.mode], [userId, 'dee@example.com', 'oauth'], 'whoami over /mcp names the user')

    const { privateKey } = await generateKeyPair('ES256')
    const foreign = await new SignJWT({ role: 'authenticated', email: 'dee@example.com' })
      .setProtectedHeader({ alg: 'ES256', kid: 'foreign' })
      .setIssuer('https://elsewhere.example/auth/v1').setAudience('authenticated').setSubject(userId)
      .setIssuedAt().setExpirationTime('10m').sign(privateKey)
    const refused = await fetch(serverUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${foreign}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    })
    t.equal(refused.status, 401, 'a token of another issuer is refused')
    t.match(refused.headers.get('www-authenticate') ?? '', 'invalid_token')
  })
}

t.test('delegate needs the OAuth server of the embedded auth', async (t) => {
  const error = t.throws(() => loadConfig({ AUTH_MODE: 'oauth', OAUTH_UPSTREAM: 'delegate', AUTH_OAUTH_SERVER_ENABLED: 'false' }, {})) as unknown
  t.ok(error instanceof ConfigError)
  t.match((error as ConfigError).message, /OAUTH_UPSTREAM: delegate .*AUTH_OAUTH_SERVER_ENABLED=true/)
  t.equal(loadConfig({ AUTH_MODE: 'oauth' }, {}).oauth.upstream, 'password', 'password is the default')
  t.throws(() => loadConfig({ AUTH_MODE: 'oauth', OAUTH_UPSTREAM: 'elsewhere' }, {}), /OAUTH_UPSTREAM: accepts one of password, supabase-oauth, delegate/)
})
