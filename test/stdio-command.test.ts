import t from 'tap'
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { callTool } from '../scripts/lib/mcp-call.ts'
import { spawnServer } from '../scripts/lib/spawn-server.ts'
import { EMBEDDED_ANON_KEY } from '../src/config.ts'
import { relayFailure } from '../src/stdio-bridge.ts'
import { supabaseClient } from './helpers/auth.ts'
import { seededDataDir } from './helpers/backends.ts'
import { call, ok } from './helpers/mcp.ts'
import { isolatedEnv } from './helpers/child-env.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
// The command docs/mcp.md's "stdio" part (and README's client list) gives a client to spawn, with the project's folder in place of /path/to/atoms-mcp.
const COMMAND = { command: 'npm', args: ['--prefix', ROOT, 'run', '--silent', 'stdio'] }

async function spawnDocumented(t: { teardown(fn: () => unknown): void }, env: Record<string, string>) {
  const transport = new StdioClientTransport({ ...COMMAND, env: isolatedEnv(env), stderr: 'pipe' })
  let stderr = ''
  transport.stderr?.on('data', (chunk) => (stderr += String(chunk)))
  const client = new Client({ name: 'stdio-command-test', version: '1.0.0' })
  await client.connect(transport)
  t.teardown(() => client.close())
  return { client, stderr: () => stderr }
}

/** A user of the embedded auth with a session, made through a server that is then stopped. */
async function userOf(dataDir: string, email: string) {
  const server = await spawnServer({ AUTH_MODE: 'jwt' }, { dataDir })
  const { data, error } = await supabaseClient(server.url, EMBEDDED_ANON_KEY).auth.signUp({ email, password: 'correct horse battery' })
  await server.stop()
  if (error) throw error
  // The issuer is BASE_URL's; the stdio process reads the same configuration as the server.
  return { id: data.user!.id, token: data.session!.access_token, env: { HOST: '127.0.0.1', PORT: new URL(server.url).port } }
}

t.test('the documented stdio command, no HTTP server running: tokens checked against the embedded auth keys', async (t) => {
  const dataDir = await seededDataDir()
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const alice = await userOf(dataDir, 'alice@example.com')

  const { client, stderr } = await spawnDocumented(t, { ...alice.env, DATA_DIR: dataDir, MCP_AUTH_TOKEN: alice.token })
  const me = await ok(client, 'whoami')
  t.equal(me.id, alice.id, 'MCP_AUTH_TOKEN is verified with no server to fetch a JWKS from')
  const org = await ok(client, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'Offline', slug: 'offline' } })
  t.equal(org.created_by, alice.id)
  const forged = await call(client, 'whoami', { auth_token: `${alice.token.slice(0, -4)}AAAA` })
  t.ok(forged.isError, 'a token with a bad signature is refused')
  t.notMatch(forged.text, /cannot be reached/, 'without trying to reach an auth server')
  t.match(stderr(), /serving MCP on stdio/)
})

t.test('the documented stdio command beside a running server: the same data, through it', async (t) => {
  const dataDir = await seededDataDir()
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  // jwt mode: an oauth-mode server's /mcp takes only the access tokens of its own OAuth flow,
  // and a relayed session token would be refused there (see docs/mcp.md, stdio).
  const server = await spawnServer({ AUTH_MODE: 'jwt' }, { dataDir })
  t.teardown(() => server.stop())
  const { data } = await supabaseClient(server.url, EMBEDDED_ANON_KEY).auth.signUp({ email: 'bob@example.com', password: 'correct horse battery' })
  const token = data.session!.access_token

  // No PORT of its own (finding 17.4): it reaches the server where the database's lock says it answers.
  const { client, stderr } = await spawnDocumented(t, { AUTH_MODE: 'jwt', DATA_DIR: dataDir, MCP_AUTH_TOKEN: token })
  t.match(stderr(), /through the server already running on this data/, 'it relays to the running server instead of refusing')
  t.match(stderr(), `"endpoint":"http://127.0.0.1:${new URL(server.url).port}/mcp"`, 'at the address that server recorded, not its own BASE_URL')
  const me = await ok(client, 'whoami')
  t.equal(me.id, data.user!.id)
  await ok(client, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'Shared', slug: 'shared' } })
  const seen = await callTool(server.url, token, 'entity_tool', { operation: 'list', entity_type: 'organization' })
  t.same(seen.value.items.map((o: { slug: string }) => o.slug), ['shared'], 'what stdio wrote, the HTTP server serves')

  // finding 17.2: a refused token was passed on in the transport's wording, not said to be the token's fault.
  await t.rejects(
    spawnDocumented(t, { AUTH_MODE: 'jwt', DATA_DIR: dataDir, PORT: new URL(server.url).port, MCP_AUTH_TOKEN: `${token.slice(0, -4)}AAAA` }),
    /the running server refused MCP_AUTH_TOKEN: the access token/,
    'a token the running server refuses is said to be refused, with the server\'s reason',
  )
})

t.test('finding 17.2: a relayed refusal in the oauth mode says which tokens its /mcp takes', async (t) => {
  const refused = Object.assign(new Error('Error POSTing to endpoint: …'), { status: 401, data: { text: JSON.stringify({ jsonrpc: '2.0', id: 0, error: { code: -32001, message: 'the access token is signed by a key this server does not know' } }) } })
  t.equal(relayFailure(refused, 'a-session-token', 'an oauth-mode server takes only access tokens of its own OAuth flow'), 'the running server refused MCP_AUTH_TOKEN: the access token is signed by a key this server does not know (an oauth-mode server takes only access tokens of its own OAuth flow)')
  t.equal(relayFailure(refused, undefined), 'authentication required: set MCP_AUTH_TOKEN')
  t.equal(relayFailure(Object.assign(new Error('fetch failed'), { status: undefined }), 'token'), 'fetch failed', 'anything but a 401 keeps its own message')
})

t.test('the documented stdio command writes nothing but JSON-RPC on stdout', async (t) => {
  const dataDir = await seededDataDir()
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const child = spawn(COMMAND.command, COMMAND.args, { env: isolatedEnv({ DATA_DIR: dataDir }), stdio: ['pipe', 'pipe', 'ignore'] })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }
  child.stdin.write(`${JSON.stringify(initialize)}\n`)
  while (!stdout.includes('\n')) await new Promise((r) => setTimeout(r, 20))
  child.stdin.end()
  t.equal(await new Promise((resolve) => child.once('exit', resolve)), 0, 'it exits 0 when stdin ends')
  const lines = stdout.trimEnd().split('\n')
  t.equal(lines.length, 1, 'one line for one request')
  t.match(JSON.parse(lines[0]!), { jsonrpc: '2.0', id: 1, result: { serverInfo: {} } }, 'and it is the answer')
})
