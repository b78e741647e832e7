import t from 'tap'
import type { Test } from 'tap'
import { auth } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2, UnauthorizedError as UnauthorizedV2 } from '@modelcontextprotocol/client'
import { freePort } from '../../scripts/lib/ports.ts'
import { ConfigError, loadConfig } from '../../src/config.ts'
import { logCollector } from '../helpers/auth.ts'
import { backends, type Backend } from '../helpers/backends.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { ok } from '../helpers/mcp.ts'
import { startServer } from '../../src/server.ts'
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { signUp, TestOAuthProvider } from './helpers.ts'
import { ANOTHER_CLIENT, signInAtProvider, startOidcProvider, type RunningProvider } from './oidc-provider.ts'
import { approveOurConsent, whoamiWith } from './supabase-consent.ts'

/**
 * The SDK client provider for OAUTH_UPSTREAM=oidc: our consent step, then the OpenID
 * provider's own pages (signed in as `login`), then our /auth/callback, back to the client.
 * The hooks let a test play the attacker on the way: change what goes to the provider or
 * what comes back from it. A refused request is kept in `lastRedirect` before this throws.
 */
class ConsentThenProvider extends TestOAuthProvider {
  login: string
  abortAtProvider = false
  toProvider: ((url: URL) => void) | undefined
  backFromProvider: ((url: URL) => void | Promise<void>) | undefined
  /** Our callback's answer when it was no redirect (an error page). */
  callbackStatus: number | undefined
  callbackUrl: URL | undefined

  constructor(login: string) {
    super({ email: `${login}@unused.example`, password: 'unused' })
    this.login = login
  }

  async redirectToAuthorization(url: URL) {
    const providerUrl = new URL(await approveOurConsent(this.browser, url))
    this.consentShown = true
    this.toProvider?.(providerUrl)
    const callback = await signInAtProvider(this.browser, providerUrl.toString(), this.login, { abort: this.abortAtProvider })
    await this.backFromProvider?.(callback)
    this.callbackUrl = callback
    const back = await this.browser.get(callback.toString())
    const location = back.headers.get('location')
    if (back.status !== 303 || !location) {
      this.callbackStatus = back.status
      throw new Error(`our callback answered ${back.status}`)
    }
    this.lastRedirect = new URL(location)
    if (this.lastRedirect.searchParams.get('state') !== this.expectedState) throw new Error('state mismatch')
    const error = this.lastRedirect.searchParams.get('error')
    if (error) throw new Error(`authorization failed: ${error}`)
    this.pendingCode = this.lastRedirect.searchParams.get('code') ?? undefined
  }
}

interface Pair {
  provider: RunningProvider
  mcp: TestServer
  log: ReturnType<typeof logCollector>
  serverUrl: string
}

/** A real OpenID provider on loopback, and the MCP server with OAUTH_UPSTREAM=oidc in front of it. */
async function startPair(t: { teardown(fn: () => unknown): void }, backend: Backend, env: Record<string, string> = {}): Promise<Pair> {
  const port = await freePort()
  const provider = await startOidcProvider(`http://127.0.0.1:${port}/auth/callback`)
  t.teardown(() => provider.close())
  const log = logCollector()
  const mcp = await startTestServer(
    backend,
    {
      PORT: String(port),
      AUTH_MODE: 'oauth',
      OAUTH_UPSTREAM: 'oidc',
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: provider.clientId,
      OIDC_CLIENT_SECRET: provider.clientSecret,
      OIDC_CREATE_USERS: 'true',
      LOG_LEVEL: 'info',
      ...env,
    },
    { logStream: log.stream },
  )
  t.teardown(() => mcp.dispose())
  return { provider, mcp, log, serverUrl: `${mcp.config.baseUrl}/mcp` }
}

/** The Supabase users with this email, as the embedded auth's admin API lists them. */
async function supabaseUsersNamed(mcp: TestServer, email: string): Promise<{ id: string; email: string }[]> {
  const response = await fetch(`${mcp.config.baseUrl}/auth/v1/admin/users?filter=${encodeURIComponent(email)}`, {
    headers: { apikey: mcp.serviceRoleKey!, authorization: `Bearer ${mcp.serviceRoleKey}` },
  })
  const body: any = await response.json()
  return body.users.filter((user: any) => user.email === email)
}

async function refused(t: Test, client: ConsentThenProvider, serverUrl: string, error: string) {
  await t.rejects(auth(client, { serverUrl }), new RegExp(error))
  t.equal(client.lastRedirect?.searchParams.get('error'), error, `the client's redirect says ${error}`)
  t.equal(client.lastRedirect?.searchParams.get('state'), client.expectedState, 'with its state')
  t.equal(client.stored, undefined, 'and no tokens were issued')
}

for (const backend of backends()) {
  t.test(`OAUTH_UPSTREAM=oidc: an unverified email at the provider never reaches an existing account on ${backend.name}`, async (t) => {
    const { provider, mcp, serverUrl } = await startPair(t, backend)
    const victimId = await signUp(mcp, 'victim@example.com', 'correct horse battery')
    provider.accounts.set('mallory', { email: 'victim@example.com', email_verified: false })
    const client = new ConsentThenProvider('mallory')
    await refused(t, client, serverUrl, 'access_denied')
    t.match(client.lastRedirect?.searchParams.get('error_description') ?? '', /not verified/, 'the description says why')
    const users = await supabaseUsersNamed(mcp, 'victim@example.com')
    t.same(users.map((user) => user.id), [victimId], 'the victim is still the only user with that email')

    // Without the claim at all, it is no more verified than with false.
    provider.accounts.set('quiet', { email: 'victim@example.com' })
    await refused(t, new ConsentThenProvider('quiet'), serverUrl, 'access_denied')
    const { rows } = await mcp.db.query('select count(*)::int as n from atoms_oauth.oidc_links')
    t.equal(rows[0]!.n, 0, 'no link to any account was made')
  })

  t.test(`OAUTH_UPSTREAM=oidc: the SDK client signs in at a real OpenID provider and whoami names the Supabase user on ${backend.name}`, async (t) => {
    const { provider, mcp, serverUrl } = await startPair(t, backend)
    provider.accounts.set('ada', { email: 'Ada@Example.com', email_verified: true })
    t.same(await supabaseUsersNamed(mcp, 'ada@example.com'), [], 'no Supabase user before the first sign-in')

    const first = new ConsentThenProvider('ada')
    t.equal(await auth(first, { serverUrl }), 'REDIRECT')
    t.equal(first.consentShown, true, 'the user approved on our consent page')
    t.equal(first.callbackUrl?.searchParams.get('iss'), provider.issuer, 'the provider named itself on the way back (RFC 9207)')
    t.equal(first.lastRedirect?.searchParams.get('iss'), mcp.config.baseUrl, 'and our code names us')
    t.equal(await auth(first, { serverUrl, authorizationCode: first.pendingCode! }), 'AUTHORIZED')
    const created = await supabaseUsersNamed(mcp, 'ada@example.com')
    t.equal(created.length, 1, 'the first sign-in created the Supabase user')
    const me = await whoamiWith(first, serverUrl)
    t.same([me.id, me.email, me.mode], [created[0]!.id, 'ada@example.com', 'oauth'], 'whoami names that Supabase user')

    t.equal(await auth(first, { serverUrl }), 'AUTHORIZED', 'a refresh re-reads the user at Supabase')
    t.equal((await whoamiWith(first, serverUrl)).id, created[0]!.id, 'and the refreshed token works')

    // A change of address at the provider: the same person, found by sub.
    provider.accounts.set('ada', { email: 'ada.lovelace@example.com', email_verified: true })
    const second = new ConsentThenProvider('ada')
    t.equal(await auth(second, { serverUrl }), 'REDIRECT')
    t.equal(await auth(second, { serverUrl, authorizationCode: second.pendingCode! }), 'AUTHORIZED')
    t.equal((await whoamiWith(second, serverUrl)).id, created[0]!.id, 'the second sign-in finds the same user, by the provider\'s sub')
    t.same(await supabaseUsersNamed(mcp, 'ada.lovelace@example.com'), [], 'and made no new user')

    // Revoking the grant ends its access token at once, as it ends a Supabase session.
    const revoke = await fetch(`${mcp.config.baseUrl}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: second.stored!.refresh_token!, client_id: second.information!.client_id }),
    })
    t.equal(revoke.status, 200)
    const after = await fetch(serverUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${second.stored!.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    })
    t.equal(after.status, 401, 'the revoked grant\'s access token is refused at /mcp')
    t.equal((await whoamiWith(first, serverUrl)).id, created[0]!.id, 'while the other grant goes on')
  })

  t.test(`OAUTH_UPSTREAM=oidc: the SDK 2.x client signs in at the provider, checks our iss and calls whoami on ${backend.name}`, async (t) => {
    const { provider, mcp, serverUrl } = await startPair(t, backend)
    provider.accounts.set('grace', { email: 'grace@example.com', email_verified: true })
    const client = new ConsentThenProvider('grace')
    const first = new TransportV2(new URL(serverUrl), { authProvider: client })
    await t.rejects(new ClientV2({ name: 'oidc-v2', version: '1.0.0' }).connect(first), UnauthorizedV2, 'the first connection is sent to sign in')
    await first.finishAuth(client.lastRedirect!.searchParams)
    const connected = new ClientV2({ name: 'oidc-v2', version: '1.0.0' })
    await connected.connect(new TransportV2(new URL(serverUrl), { authProvider: client }))
    t.teardown(() => connected.close())
    const result: any = await connected.callTool({ name: 'whoami', arguments: {} })
    const me = JSON.parse(result.content[0].text)
    const [user] = await supabaseUsersNamed(mcp, 'grace@example.com')
    t.same([me.id, me.email], [user?.id, 'grace@example.com'], 'whoami names the Supabase user the sign-in created')
  })

  t.test(`OAUTH_UPSTREAM=oidc: a Supabase account that never confirmed its email is not taken over on ${backend.name}`, async (t) => {
    // Someone signed up with another person's address and never confirmed it; the owner of
    // the address, verified at the provider, must not inherit that account (nor its password).
    const { provider, mcp, serverUrl } = await startPair(t, backend, { AUTH_AUTOCONFIRM: 'false' })
    const squatterId = await signUp(mcp, 'dora@example.com', 'correct horse battery')
    provider.accounts.set('dora', { email: 'dora@example.com', email_verified: true })
    await refused(t, new ConsentThenProvider('dora'), serverUrl, 'access_denied')
    t.same((await supabaseUsersNamed(mcp, 'dora@example.com')).map((user) => user.id), [squatterId], 'no user was linked or created')
  })

  t.test(`OAUTH_UPSTREAM=oidc: a code the provider issued to another client is refused on ${backend.name}`, async (t) => {
    const { provider, serverUrl, log } = await startPair(t, backend)
    provider.accounts.set('ivan', { email: 'ivan@example.com', email_verified: true })
    const client = new ConsentThenProvider('ivan')
    client.toProvider = (url) => url.searchParams.set('client_id', ANOTHER_CLIENT)
    await refused(t, client, serverUrl, 'access_denied')
    t.match(log.text(), /the sign-in at the OpenID provider failed \(grant\)/, 'the provider refused to redeem it for us')
  })

  t.test(`OAUTH_UPSTREAM=oidc: a wrong client secret is a configuration error, told to the client as server_error, on ${backend.name}`, async (t) => {
    const { provider, serverUrl, log } = await startPair(t, backend, { OIDC_CLIENT_SECRET: 'not-the-secret' })
    provider.accounts.set('kim', { email: 'kim@example.com', email_verified: true })
    const client = new ConsentThenProvider('kim')
    await refused(t, client, serverUrl, 'server_error')
    t.match(client.lastRedirect?.searchParams.get('error_description') ?? '', /not configured correctly/)
    t.match(log.text(), /check OIDC_CLIENT_ID and OIDC_CLIENT_SECRET/, 'the log says what to fix')
    t.notMatch(log.text(), /SUPABASE_OAUTH_CLIENT_SECRET/, 'and names no setting of another upstream')
  })

  t.test(`OAUTH_UPSTREAM=oidc: a provider gone by the callback is temporarily_unavailable, not a 500, on ${backend.name}`, async (t) => {
    const { provider, serverUrl } = await startPair(t, backend)
    provider.accounts.set('judy', { email: 'judy@example.com', email_verified: true })
    const client = new ConsentThenProvider('judy')
    client.backFromProvider = () => provider.close()
    await refused(t, client, serverUrl, 'temporarily_unavailable')
  })

  t.test(`OAUTH_UPSTREAM=oidc: a user signed in at the provider sees what the same Supabase user sees through simple mode on ${backend.name}`, async (t) => {
    const { provider, mcp, serverUrl } = await startPair(t, backend, { OIDC_CREATE_USERS: 'false' })
    const bobId = await signUp(mcp, 'bob@example.com', 'correct horse battery')
    // A simple-mode server on the same database and keys: the way the same user signs in there.
    const simple = await startServer(
      loadConfig({ HOST: '127.0.0.1', PORT: String(await freePort()), DATA_DIR: mcp.config.dataDir, AUTH_MODE: 'simple', LOG_LEVEL: 'silent', ...(mcp.config.databaseUrl ? { DATABASE_URL: mcp.config.databaseUrl } : {}) }, {}),
      { db: mcp.db },
    )
    t.teardown(() => simple.app.close())
    const login = await fetch(`${simple.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bob@example.com', password: 'correct horse battery' }) })
    const { access_token: simpleToken } = (await login.json()) as { access_token: string }
    const viaSimple = new ClientV1({ name: 'simple', version: '1.0.0' })
    await viaSimple.connect(new TransportV1(new URL(`${simple.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${simpleToken}` } } }))
    t.teardown(() => viaSimple.close())
    const created = await ok(viaSimple, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'Bob Org', slug: 'bob-org' } })

    provider.accounts.set('bob', { email: 'bob@example.com', email_verified: true })
    const client = new ConsentThenProvider('bob')
    t.equal(await auth(client, { serverUrl }), 'REDIRECT')
    t.equal(await auth(client, { serverUrl, authorizationCode: client.pendingCode! }), 'AUTHORIZED')
    const viaOidc = new ClientV1({ name: 'oidc', version: '1.0.0' })
    await viaOidc.connect(new TransportV1(new URL(serverUrl), { authProvider: client }))
    t.teardown(() => viaOidc.close())

    const [meSimple, meOidc] = [await ok(viaSimple, 'whoami'), await ok(viaOidc, 'whoami')]
    t.same([meOidc.id, meOidc.email], [bobId, 'bob@example.com'], 'the tools see the Supabase user that already existed')
    t.same([meOidc.id, meOidc.email], [meSimple.id, meSimple.email], 'the same user as through simple mode')
    const list = { operation: 'list', entity_type: 'organization' }
    const listed = await ok(viaOidc, 'entity_tool', list)
    t.same(listed, await ok(viaSimple, 'entity_tool', list), 'and the same rows under row-level security')
    t.ok(JSON.stringify(listed).includes(created.id), 'the organization made through simple mode among them')
  })

  t.test(`OAUTH_UPSTREAM=oidc: a verified email finds the existing Supabase user on ${backend.name}`, async (t) => {
    const { provider, mcp, serverUrl } = await startPair(t, backend, { OIDC_CREATE_USERS: 'false' })
    const bobId = await signUp(mcp, 'bob@example.com', 'correct horse battery')
    provider.accounts.set('bob', { email: 'bob@example.com', email_verified: true })
    const client = new ConsentThenProvider('bob')
    t.equal(await auth(client, { serverUrl }), 'REDIRECT')
    t.equal(await auth(client, { serverUrl, authorizationCode: client.pendingCode! }), 'AUTHORIZED')
    t.equal((await whoamiWith(client, serverUrl)).id, bobId, 'the tools see the Supabase user that already existed')

    provider.accounts.set('carol', { email: 'carol@example.com', email_verified: true })
    const stranger = new ConsentThenProvider('carol')
    await refused(t, stranger, serverUrl, 'access_denied')
    t.same(await supabaseUsersNamed(mcp, 'carol@example.com'), [], 'OIDC_CREATE_USERS=false creates nobody')
  })

  t.test(`OAUTH_UPSTREAM=oidc: tampering on the way to and from the provider is refused, never a 500, on ${backend.name}`, async (t) => {
    const { provider, serverUrl, log } = await startPair(t, backend)
    provider.accounts.set('eve', { email: 'eve@example.com', email_verified: true })

    const badNonce = new ConsentThenProvider('eve')
    badNonce.toProvider = (url) => url.searchParams.set('nonce', 'a-nonce-of-the-attackers-choosing')
    await refused(t, badNonce, serverUrl, 'access_denied')
    t.match(log.text(), /"check":"OAUTH_JWT_CLAIM_COMPARISON_FAILED","claim":"nonce"/, "the log says which check of the ID token failed")

    const mixUp = new ConsentThenProvider('eve')
    mixUp.backFromProvider = (url) => url.searchParams.set('iss', 'http://127.0.0.1:1/another-issuer')
    await refused(t, mixUp, serverUrl, 'access_denied')

    const noIss = new ConsentThenProvider('eve')
    noIss.backFromProvider = (url) => url.searchParams.delete('iss')
    await refused(t, noIss, serverUrl, 'access_denied')

    const deniedThere = new ConsentThenProvider('eve')
    deniedThere.abortAtProvider = true
    await refused(t, deniedThere, serverUrl, 'access_denied')

    const wrongState = new ConsentThenProvider('eve')
    wrongState.backFromProvider = (url) => url.searchParams.set('state', 'a-state-nobody-issued')
    await t.rejects(auth(wrongState, { serverUrl }), /callback answered 400/)
    t.equal(wrongState.callbackStatus, 400, 'an unknown state is an error page, not a redirect anywhere')

    // The same callback twice: the request is finished, and the provider's code is spent.
    const honest = new ConsentThenProvider('eve')
    t.equal(await auth(honest, { serverUrl }), 'REDIRECT')
    const replay = await honest.browser.get(honest.callbackUrl!.toString())
    t.equal(replay.status, 400, 'a replayed callback is an error page')
    t.match(await replay.text(), /already finished|expired/)
    t.notMatch(log.text(), /"level":50/, 'nothing was logged as an unexpected failure')
  })

  t.test(`OAUTH_UPSTREAM=oidc: a provider that cannot be reached at start is one clear line on ${backend.name}`, async (t) => {
    const port = await freePort()
    const error: any = await startTestServer(backend, {
      AUTH_MODE: 'oauth',
      OAUTH_UPSTREAM: 'oidc',
      OIDC_ISSUER: `http://127.0.0.1:${port}`,
      OIDC_CLIENT_ID: 'atoms-mcp',
      OIDC_CLIENT_SECRET: 'secret',
      UPSTREAM_TIMEOUT_MS: '2000',
    }).catch((caught) => caught)
    t.ok(error instanceof Error, 'the server does not start')
    t.match(error.message, new RegExp(`^OIDC_ISSUER: cannot read http://127\\.0\\.0\\.1:${port}/\\.well-known/openid-configuration`))
    t.notMatch(error.message, /\n/, 'in one line')

    // A document that names another issuer is refused too: the same provider by another name.
    const provider = await startOidcProvider('http://127.0.0.1:1/auth/callback')
    t.teardown(() => provider.close())
    const mismatch: any = await startTestServer(backend, {
      AUTH_MODE: 'oauth',
      OAUTH_UPSTREAM: 'oidc',
      OIDC_ISSUER: provider.issuer.replace('127.0.0.1', 'localhost'),
      OIDC_CLIENT_ID: provider.clientId,
      OIDC_CLIENT_SECRET: provider.clientSecret,
    }).catch((caught) => caught)
    if (!(mismatch instanceof Error)) await mismatch.dispose()
    t.match(mismatch?.message, /^OIDC_ISSUER: cannot read .* \(it names another issuer; set OIDC_ISSUER exactly as the provider writes it\)/)
  })
}

t.test('OAUTH_UPSTREAM=oidc configuration', async (t) => {
  const problems = (env: Record<string, string>) => {
    const error = t.throws(() => loadConfig({ AUTH_MODE: 'oauth', OAUTH_UPSTREAM: 'oidc', ...env }, {})) as unknown
    t.ok(error instanceof ConfigError)
    return (error as ConfigError).problems
  }
  const missingSecret = problems({ OIDC_ISSUER: 'https://id.example.com', OIDC_CLIENT_ID: 'abc' })
  t.same(missingSecret.length, 1, 'a missing client secret is one problem')
  t.match(missingSecret[0], /^OIDC_CLIENT_SECRET: required with OAUTH_UPSTREAM=oidc/)
  t.match(problems({ OIDC_CLIENT_ID: 'abc', OIDC_CLIENT_SECRET: 'def' })[0], /^OIDC_ISSUER: required/)
  t.match(problems({ OIDC_ISSUER: 'http://id.example.com', OIDC_CLIENT_ID: 'abc', OIDC_CLIENT_SECRET: 'def' })[0], /^OIDC_ISSUER: .* must use https/)
  t.match(problems({ OIDC_ISSUER: 'https://id.example.com', OIDC_CLIENT_ID: 'abc', OIDC_CLIENT_SECRET: 'def', OAUTH_ACCESS_TOKENS: 'supabase' })[0], /^OAUTH_ACCESS_TOKENS: supabase/)

  const generic = loadConfig({ AUTH_MODE: 'oauth', OAUTH_UPSTREAM: 'oidc', OIDC_ISSUER: 'https://tenant.example.com/', OIDC_CLIENT_ID: 'abc', OIDC_CLIENT_SECRET: 'def' }, {})
  t.same(generic.oauth.oidc, { issuer: 'https://tenant.example.com/', clientId: 'abc', clientSecret: 'def', createUsers: false }, 'the issuer is kept exactly, trailing slash included')
  const workos = loadConfig({ AUTH_MODE: 'oauth', OAUTH_UPSTREAM: 'oidc', WORKOS_CLIENT_ID: 'client_01ABC', WORKOS_API_KEY: 'sk_test_123' }, {})
  t.same(workos.oauth.oidc, { issuer: 'https://api.workos.com/user_management/client_01ABC', clientId: 'client_01ABC', clientSecret: 'sk_test_123', createUsers: false }, "WorkOS's names, with AuthKit's issuer")
  const authkitDomain = loadConfig({ AUTH_MODE: 'oauth', OAUTH_UPSTREAM: 'oidc', OIDC_ISSUER: 'https://acme.authkit.app', WORKOS_CLIENT_ID: 'client_01ABC', WORKOS_API_KEY: 'sk_test_123' }, {})
  t.equal(authkitDomain.oauth.oidc?.issuer, 'https://acme.authkit.app', 'OIDC_ISSUER names another issuer, such as an AuthKit domain')
})
