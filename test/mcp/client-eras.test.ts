import t from 'tap'
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client'
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { backends } from '../helpers/backends.ts'
import { signUp, type TestUser } from '../helpers/mcp.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

// Both SDK lines' clients against /mcp in every auth mode: the 2.x client negotiating on its
// own (`auto`: it probes server/discover and stays in 2026-07-28), the 2.x client pinned to
// 2026-07-28 (no fallback), and the 1.x client (2025-11-25). Same tools, same user, same rows.

const TOOLS = ['entity_tool', 'get_api_usage', 'relationship_tool', 'whoami', 'workspace_tool']

interface AnyClient {
  listTools(): Promise<{ tools: Array<{ name: string }> }>
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>
  getNegotiatedProtocolVersion?(): string | undefined
  getServerVersion?(): unknown
  close(): Promise<void>
}

const CLIENTS: Array<{ name: string; version: string; connect(url: URL, token: string): Promise<AnyClient> }> = [
  {
    name: 'the 2.x client in auto mode',
    version: '2026-07-28',
    async connect(url, token) {
      const client = new ClientV2({ name: 'auto', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } })
      await client.connect(new TransportV2(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } }))
      return client as unknown as AnyClient
    },
  },
  {
    name: 'the 2.x client pinned to 2026-07-28',
    version: '2026-07-28',
    async connect(url, token) {
      const client = new ClientV2({ name: 'pinned', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
      await client.connect(new TransportV2(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } }))
      return client as unknown as AnyClient
    },
  },
  {
    name: 'the 1.x client',
    version: '2025-11-25',
    async connect(url, token) {
      const client = new ClientV1({ name: 'v1', version: '1.0.0' })
      await client.connect(new TransportV1(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } }))
      return client as unknown as AnyClient
    },
  },
]

async function resultOf(client: AnyClient, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const result = (await client.callTool({ name, arguments: args })) as { content: Array<{ type: string; text?: string }>; isError?: boolean }
  const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('')
  if (result.isError) throw new Error(`${name} failed: ${text}`)
  return JSON.parse(text)
}

const backend = backends()[0]!

for (const mode of ['jwt', 'bearer', 'simple', 'oauth']) {
  t.test(`the three clients in ${mode} mode`, async (t) => {
    // A session token straight from sign-up: in oauth mode that is what OAUTH_ACCESS_TOKENS=supabase
    // accepts (our own bound tokens with these clients: test/oauth/bound-tokens.test.ts).
    const server: TestServer = await startTestServer(backend, { AUTH_MODE: mode, ...(mode === 'oauth' ? { OAUTH_ACCESS_TOKENS: 'supabase' } : {}) })
    t.teardown(() => server.dispose())
    const url = new URL(`${server.config.baseUrl}/mcp`)
    for (const [index, kind] of CLIENTS.entries()) {
      t.test(kind.name, async (t) => {
        const user: TestUser = await signUp(server, `${mode}-${index}@example.com`)
        const client = await kind.connect(url, user.token)
        t.teardown(() => client.close())
        t.equal(client.getNegotiatedProtocolVersion?.() ?? '2025-11-25', kind.version, `it speaks ${kind.version}`)
        const { tools } = await client.listTools()
        t.same(tools.map((tool) => tool.name).sort(), TOOLS)
        const me = await resultOf(client, 'whoami')
        t.equal(me.id, user.id, 'the token names the caller')
        t.equal(me.mode, mode)
        const slug = `org-${mode}-${index}`
        const org = await resultOf(client, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: `Org ${index}`, slug } })
        t.equal(org.created_by, user.id)
        const read = await resultOf(client, 'entity_tool', { operation: 'read', entity_type: 'organization', id: org.id })
        t.equal(read.slug, slug, 'what it created, it reads back')
        const page = await resultOf(client, 'entity_tool', { operation: 'list', entity_type: 'organization' })
        t.same(page.items.map((item: { id: string }) => item.id), [org.id], 'and only its own rows are listed')
      })
    }
  })
}
