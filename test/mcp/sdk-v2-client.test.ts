import t from 'tap'
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client'
import { backends } from '../helpers/backends.ts'
import { signUp } from '../helpers/mcp.ts'
import { startTestServer } from '../helpers/server.ts'
import { signUp as signUpWithPassword, TestOAuthProvider } from '../oauth/helpers.ts'

// The SDK's second line (@modelcontextprotocol/client 2.x) in its default (2025) negotiation,
// and through its own OAuth; its 2026-07-28 modes are in client-eras.test.ts.

const TOOLS = ['entity_tool', 'get_api_usage', 'relationship_tool', 'whoami', 'workspace_tool']

async function resultOf(client: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const result: any = await client.callTool({ name, arguments: args })
  const text = result.content.map((c: { type: string; text?: string }) => (c.type === 'text' ? c.text : '')).join('')
  if (result.isError) throw new Error(`${name} failed: ${text}`)
  return JSON.parse(text)
}

const backend = backends()[0]!

t.test('the 2.x client with a bearer token: tools, whoami and an entity round trip', async (t) => {
  const server = await startTestServer(backend, { AUTH_MODE: 'jwt' })
  t.teardown(() => server.dispose())
  const user = await signUp(server, 'second-line@example.com')
  const client = new Client({ name: 'atoms-test-v2', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${server.config.baseUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${user.token}` } } }))
  t.teardown(() => client.close())
  t.ok(['2025-11-25', '2025-06-18', '2025-03-26'].includes(client.getNegotiatedProtocolVersion?.() ?? '2025-11-25'), 'a protocol both sides speak was negotiated')
  const { tools } = await client.listTools()
  t.same(tools.map((tool) => tool.name).sort(), TOOLS)
  const me = await resultOf(client, 'whoami')
  t.equal(me.id, user.id, 'the token names the caller')
  t.equal(me.mode, 'jwt')
  const org = await resultOf(client, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'Second line', slug: 'second-line' } })
  const page = await resultOf(client, 'entity_tool', { operation: 'list', entity_type: 'organization' })
  t.same(page.items.map((item: { id: string }) => item.id), [org.id], 'what it created, it lists')
})

t.test('the 2.x client without a token is refused with the protocol’s 401', async (t) => {
  const server = await startTestServer(backend, { AUTH_MODE: 'jwt' })
  t.teardown(() => server.dispose())
  const client = new Client({ name: 'atoms-test-v2', version: '1.0.0' })
  await t.rejects(client.connect(new StreamableHTTPClientTransport(new URL(`${server.config.baseUrl}/mcp`))), /-32001|401|nauthorized/)
})

t.test('the 2.x client’s own OAuth: discovery, registration, sign-in, code, then whoami', async (t) => {
  const server = await startTestServer(backend, { AUTH_MODE: 'oauth' })
  t.teardown(() => server.dispose())
  const userId = await signUpWithPassword(server, 'oauth-v2@example.com', 'correct horse battery')
  const provider = new TestOAuthProvider({ email: 'oauth-v2@example.com', password: 'correct horse battery' })
  const url = new URL(`${server.config.baseUrl}/mcp`)

  const first = new StreamableHTTPClientTransport(url, { authProvider: provider })
  await t.rejects(new Client({ name: 'atoms-test-v2', version: '1.0.0' }).connect(first), UnauthorizedError, 'the first connection is sent to sign in')
  t.ok(provider.information?.client_id, 'the client registered itself')
  t.ok(provider.pendingCode, 'and came back with a code')
  // The callback's parameters as they arrived: the 2.x client checks `iss` (RFC 9207) before redeeming.
  await first.finishAuth(provider.lastRedirect!.searchParams)
  t.ok(provider.stored?.access_token, 'the issuer matched and the code was redeemed')

  const client = new Client({ name: 'atoms-test-v2', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }))
  t.teardown(() => client.close())
  const me = await resultOf(client, 'whoami')
  t.equal(me.id, userId, 'the signed-in user is the caller')
  t.equal(me.mode, 'oauth')

  // An access token that no longer passes: the client refreshes with the refresh token of ours it holds.
  const before = provider.stored!
  t.match(before.refresh_token, /^[\w-]{43}$/, 'it holds a refresh token of ours, not a Supabase one')
  provider.stored = { ...before, access_token: `${before.access_token}x` }
  const signInBefore = provider.lastRedirect
  const refreshed = new Client({ name: 'atoms-test-v2', version: '1.0.0' })
  await refreshed.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }))
  t.teardown(() => refreshed.close())
  t.equal((await resultOf(refreshed, 'whoami')).id, userId, 'after a refresh, the same user')
  t.not(provider.stored?.refresh_token, before.refresh_token, 'the refresh token was rotated')
  t.equal(provider.lastRedirect, signInBefore, 'without a new sign-in')
})

/** A client whose first authorization asks for read only, as a cautious user would grant. */
class ReadOnlyFirst extends TestOAuthProvider {
  firstScope: string | undefined = 'atoms:read'
  override async redirectToAuthorization(url: URL) {
    if (this.firstScope) url.searchParams.set('scope', this.firstScope)
    this.firstScope = undefined
    return super.redirectToAuthorization(url)
  }
}

t.test('the 2.x client’s step-up: a read-only grant reads, a write gets 403 insufficient_scope, the client asks again and writes', async (t) => {
  const server = await startTestServer(backend, { AUTH_MODE: 'oauth' })
  t.teardown(() => server.dispose())
  await signUpWithPassword(server, 'step-up@example.com', 'correct horse battery')
  const provider = new ReadOnlyFirst({ email: 'step-up@example.com', password: 'correct horse battery' })
  const url = new URL(`${server.config.baseUrl}/mcp`)

  const first = new StreamableHTTPClientTransport(url, { authProvider: provider })
  await t.rejects(new Client({ name: 'atoms-test-v2', version: '1.0.0' }).connect(first), UnauthorizedError)
  await first.finishAuth(provider.lastRedirect!.searchParams)
  t.equal(provider.stored?.scope, 'atoms:read', 'a read-only grant')

  const transport = new StreamableHTTPClientTransport(url, { authProvider: provider })
  const client = new Client({ name: 'atoms-test-v2', version: '1.0.0' })
  await client.connect(transport)
  t.teardown(() => client.close())
  t.same((await resultOf(client, 'entity_tool', { operation: 'list', entity_type: 'organization' })).items, [], 'it lists')
  const create = { operation: 'create', entity_type: 'organization', data: { name: 'Stepped up', slug: 'stepped-up' } }
  await t.rejects(resultOf(client, 'entity_tool', create), UnauthorizedError, 'the write is refused and the client is sent to authorize again')
  t.equal(provider.consentShown, true, 'the user is asked to approve the wider grant')
  t.match(provider.lastRedirect?.searchParams.get('code'), /.+/)
  await transport.finishAuth(provider.lastRedirect!.searchParams)
  t.ok(['atoms:read', 'atoms:write'].every((scope) => provider.stored?.scope?.split(' ').includes(scope)), 'the new grant covers both')
  const org = await resultOf(client, 'entity_tool', create)
  t.equal(org.slug, 'stepped-up', 'the write goes through')
})
