import t from 'tap'
import { auth } from '@modelcontextprotocol/sdk/client/auth.js'
import { freePort } from '../../scripts/lib/ports.ts'
import { ConfigError, loadConfig } from '../../src/config.ts'
import { logCollector } from '../helpers/auth.ts'
import { backends, type Backend } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { signUp, sessionUser } from './helpers.ts'
import { ConsentThenSupabaseProvider, whoamiWith } from './supabase-consent.ts'

/**
 * Two real servers: one stands in for the Supabase project (its embedded auth with the OAuth
 * server on), where this server's client is registered through the registration endpoint;
 * the other is the MCP server with OAUTH_UPSTREAM=supabase-oauth in front of it.
 */
async function startPair(t: { teardown(fn: () => unknown): void }, backend: Backend, options: { wrongSecret?: boolean } = {}) {
  const supabase = await startTestServer(backend, { AUTH_MODE: 'jwt', AUTH_OAUTH_SERVER_ALLOW_DYNAMIC_REGISTRATION: 'true' })
  t.teardown(() => supabase.dispose())
  const port = await freePort()
  const registration = await fetch(`${supabase.config.baseUrl}/auth/v1/oauth/clients/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', apikey: supabase.anonKey },
    body: JSON.stringify({
      client_name: 'atoms-mcp',
      redirect_uris: [`http://127.0.0.1:${port}/auth/callback`],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
    }),
  })
  const registered: any = await registration.json()
  if (registration.status !== 201 && registration.status !== 200) throw new Error(`registration answered ${registration.status}`)
  const log = logCollector()
  const mcp = await startTestServer(
    backend,
    {
      PORT: String(port),
      AUTH_MODE: 'oauth',
      OAUTH_UPSTREAM: 'supabase-oauth',
      SUPABASE_URL: supabase.config.baseUrl,
      SUPABASE_ANON_KEY: supabase.anonKey,
      SUPABASE_OAUTH_CLIENT_ID: registered.client_id,
      SUPABASE_OAUTH_CLIENT_SECRET: options.wrongSecret ? 'not-the-secret' : registered.client_secret,
      LOG_LEVEL: 'error',
    },
    { logStream: log.stream },
  )
  t.teardown(() => mcp.dispose())
  return { supabase, mcp, log }
}

for (const backend of backends()) {
  t.test(`OAUTH_UPSTREAM=supabase-oauth: the SDK client signs in through Supabase's OAuth server on ${backend.name}`, async (t) => {
    const { supabase, mcp } = await startPair(t, backend)
    const userId = await signUp(supabase, 'sam@example.com', 'correct horse battery')
    const base = mcp.config.baseUrl
    const serverUrl = `${base}/mcp`
    const prm: any = await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp`)).json()
    t.same(prm.authorization_servers, [base], 'clients still use this server as their authorization server')

    const provider = new ConsentThenSupabaseProvider({ email: 'sam@example.com', password: 'correct horse battery' })
    t.equal(await auth(provider, { serverUrl }), 'REDIRECT')
    t.ok(provider.information?.client_id, 'the client registered with this server')
    t.equal(provider.consentShown, true, 'and saw our consent step')
    t.equal(provider.lastRedirect?.searchParams.get('iss'), base, 'the code comes from this server (RFC 9207)')
    t.ok(provider.pendingCode)
    t.equal(await auth(provider, { serverUrl, authorizationCode: provider.pendingCode! }), 'AUTHORIZED')
    const first = provider.stored!
    t.equal((await sessionUser(supabase, first.access_token)).id, userId, 'the access token (ours) stands for a live Supabase session of that user')

    const me = await whoamiWith(provider, serverUrl)
    t.same([me.id, me.email, me.mode], [userId, 'sam@example.com', 'oauth'], 'whoami over /mcp names the user')

    t.equal(await auth(provider, { serverUrl }), 'AUTHORIZED', 'a refresh goes through Supabase\'s OAuth token endpoint')
    const second = provider.stored!
    t.not(second.refresh_token, first.refresh_token, 'the refresh token was rotated')
    t.equal((await sessionUser(supabase, second.access_token)).id, userId, 'the refreshed access token works')

    const revoke = await fetch(`${base}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: second.refresh_token!, client_id: provider.information!.client_id }),
    })
    t.equal(revoke.status, 200, 'revocation answers 200')
    t.equal((await sessionUser(supabase, second.access_token)).status, 403, 'and the Supabase session has ended')
  })

  t.test(`OAUTH_UPSTREAM=supabase-oauth: a denial at Supabase reaches the client as access_denied on ${backend.name}`, async (t) => {
    const { supabase, mcp } = await startPair(t, backend)
    await signUp(supabase, 'nan@example.com', 'correct horse battery')
    const provider = new ConsentThenSupabaseProvider({ email: 'nan@example.com', password: 'correct horse battery' })
    provider.supabaseDecision = 'deny'
    await t.rejects(auth(provider, { serverUrl: `${mcp.config.baseUrl}/mcp` }), /access_denied/)
    t.equal(provider.lastRedirect?.searchParams.get('error'), 'access_denied', 'the client redirect says access_denied')
    t.equal(provider.stored, undefined, 'and no tokens were issued')
  })

  t.test(`OAUTH_UPSTREAM=supabase-oauth: a wrong client secret is a configuration error on ${backend.name}`, async (t) => {
    const { supabase, mcp, log } = await startPair(t, backend, { wrongSecret: true })
    await signUp(supabase, 'oli@example.com', 'correct horse battery')
    const provider = new ConsentThenSupabaseProvider({ email: 'oli@example.com', password: 'correct horse battery' })
    await t.rejects(auth(provider, { serverUrl: `${mcp.config.baseUrl}/mcp` }), /server_error/)
    t.equal(provider.lastRedirect?.searchParams.get('error'), 'server_error', 'the client hears server_error, by redirect (never a 500)')
    t.match(provider.lastRedirect?.searchParams.get('error_description') ?? '', /not configured correctly/)
    t.match(log.text(), /SUPABASE_OAUTH_CLIENT_SECRET/, 'the log says what to fix')
  })
}

t.test('supabase-oauth needs the client id and secret', async (t) => {
  const error = t.throws(() => loadConfig({ AUTH_MODE: 'oauth', OAUTH_UPSTREAM: 'supabase-oauth', SUPABASE_OAUTH_CLIENT_ID: 'abc' }, {})) as unknown
  t.ok(error instanceof ConfigError)
  t.match((error as ConfigError).message, /SUPABASE_OAUTH_CLIENT_SECRET: required with OAUTH_UPSTREAM=supabase-oauth/)
  t.notMatch((error as ConfigError).message, /SUPABASE_OAUTH_CLIENT_ID:/)
  const withoutServer = { AUTH_MODE: 'oauth', OAUTH_UPSTREAM: 'supabase-oauth', SUPABASE_OAUTH_CLIENT_ID: 'abc', SUPABASE_OAUTH_CLIENT_SECRET: 'def', AUTH_OAUTH_SERVER_ENABLED: 'false' }
  t.throws(() => loadConfig(withoutServer, {}), /OAUTH_UPSTREAM: supabase-oauth sends users to the OAuth server of the embedded auth/)
  t.same(loadConfig({ ...withoutServer, AUTH_OAUTH_SERVER_ENABLED: 'true' }, {}).oauth.supabaseClient, { id: 'abc', secret: 'def' })
})
