import { rmSync } from 'node:fs'
import t from 'tap'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { backends, seededDataDir } from '../helpers/backends.ts'
import { call, ok, signUp, startMcpServer } from '../helpers/mcp.ts'
import { isolatedEnv } from '../helpers/child-env.ts'

const NODE = process.execPath

async function spawnClient(t: { teardown(fn: () => unknown): void }, script: string, env: Record<string, string>) {
  const stderr: string[] = []
  const transport = new StdioClientTransport({
    command: NODE,
    args: [script],
    env: isolatedEnv({ LOG_LEVEL: 'info', ...env }),
    stderr: 'pipe',
  })
  transport.stderr?.on('data', (chunk) => stderr.push(String(chunk)))
  const client = new Client({ name: 'stdio-test', version: '1.0.0' })
  await client.connect(transport)
  t.teardown(() => client.close())
  return { client, stderr }
}

t.test('node src/main.ts with the legacy ATOMS_FASTMCP_TRANSPORT=stdio speaks MCP on stdout and logs to stderr', async (t) => {
  const dataDir = await seededDataDir()
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const { client, stderr } = await spawnClient(t, 'src/main.ts', { ATOMS_FASTMCP_TRANSPORT: 'stdio', DATA_DIR: dataDir })
  const { tools } = await client.listTools()
  t.equal(tools.length, 5)
  const whoami = await call(client, 'whoami', {})
  t.ok(whoami.isError, 'no token, no identity')
  t.match(stderr.join(''), /serving MCP on stdio/)
})

for (const backend of backends()) {
  t.test(`stdio with a token on ${backend.name}`, async (t) => {
    const server = await startMcpServer(backend)
    t.teardown(() => server.dispose())
    const alice = await signUp(server, 'alice@example.com')
    const bob = await signUp(server, 'bob@example.com')
    // The stdio process has its own database: a fresh PGlite, or the PostgreSQL database of the server.
    const store = backend.name === 'postgres' ? await backend.create() : undefined
    const dataDir = await seededDataDir()
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
    const database: Record<string, string> = store ? { DATABASE_URL: store.url! } : { DATA_DIR: dataDir }
    const { client } = await spawnClient(t, 'src/main.ts', {
      ...database,
      TRANSPORT: 'stdio',
      AUTH_MODE: 'jwt',
      SUPABASE_URL: server.config.baseUrl,
      SUPABASE_ANON_KEY: server.anonKey,
      MCP_AUTH_TOKEN: alice.token,
    })
    if (store) t.teardown(() => store.dispose())
    const me = await ok(client, 'whoami')
    t.equal(me.id, alice.id, 'MCP_AUTH_TOKEN names the caller')
    const asBob = await ok(client, 'whoami', { auth_token: bob.token })
    t.equal(asBob.id, bob.id, 'the auth_token argument overrides it, and is removed before the tool runs')
    const forged = await call(client, 'whoami', { auth_token: 'forged.token.here' })
    t.ok(forged.isError)
    t.match(forged.text, /authentication failed/)

    const org = await ok(client, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'Stdio', slug: 'stdio' } })
    t.equal(org.created_by, alice.id)
    const bobSees = await ok(client, 'entity_tool', { operation: 'list', entity_type: 'organization', auth_token: bob.token })
    t.same(bobSees.items, [], 'row-level security applies on stdio too')
  })
}
