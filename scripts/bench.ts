/**
 * `npm run bench`: starts the server in its own processes (embedded auth, embedded
 * database), prepares users and tokens, loads each line with autocannon over loopback and
 * prints one table. `--smoke` runs each line for a moment only (the test suite uses it to
 * keep this script working); `--json FILE` also writes the figures.
 */
import { writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { spawn } from 'node:child_process'
import { freePort } from './lib/ports.ts'
import { spawnServer, type ServerProcess } from './lib/spawn-server.ts'

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    json: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string' },
  },
})
const duration = Number(args.duration ?? (args.smoke ? 1 : 10))
const connections = Number(args.connections)

interface Line {
  name: string
  /** Fewer connections where the server is meant to be slow (bcrypt). */
  connections?: number
  prepare(): Promise<autocannon.Options>
}

interface Figures {
  name: string
  requestsPerSecond: number
  p50: number
  p99: number
  errors: number
  non2xx: number
}

const servers = new Map<string, ServerProcess>()
async function server(mode: string): Promise<ServerProcess> {
  let running = servers.get(mode)
  if (!running) {
    running = await spawnServer({ AUTH_MODE: mode, LOG_LEVEL: 'error' })
    servers.set(mode, running)
  }
  return running
}

const PASSWORD = 'bench-password-1'
async function signUp(base: string, email: string) {
  const response = await fetch(`${base}/auth/v1/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  })
  if (!response.ok) throw new Error(`sign-up failed: ${response.status} ${await response.text()}`)
  return (await response.json()) as { access_token: string; refresh_token: string; user: { id: string } }
}

/** A JSON-RPC `tools/call` as MCP clients send it over Streamable HTTP. */
function toolsCall(url: string, token: string, name: string, args: Record<string, unknown> = {}): autocannon.Options {
  return {
    url,
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  }
}

const stopReference: (() => void)[] = []
/** The SDK's stateless Express pattern in its own process, checking tokens of the jwt server. */
async function referenceServer(auth: ServerProcess): Promise<string> {
  const port = await freePort()
  const child = spawn(process.execPath, ['scripts/bench-reference/stateless-express.ts'], {
    env: { ...process.env, PORT: String(port), JWKS_URL: `${auth.url}/auth/v1/.well-known/jwks.json`, JWT_ISSUER: `${auth.url}/auth/v1` },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  stopReference.push(() => child.kill())
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 200; i++) {
    if (await fetch(`${url}/ready`).then((r) => r.ok, () => false)) return url
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('the reference server did not start')
}

const lines: Line[] = [
  {
    name: 'bare /health',
    async prepare() {
      const s = await server('jwt')
      return { url: `${s.url}/health` }
    },
  },
  {
    name: 'embedded auth GET /auth/v1/user',
    async prepare() {
      const s = await server('jwt')
      const session = await signUp(s.url, `user-endpoint-${Date.now()}@bench.local`)
      return { url: `${s.url}/auth/v1/user`, headers: { authorization: `Bearer ${session.access_token}` } }
    },
  },
  {
    name: 'embedded auth password grant (bcrypt)',
    connections: 8,
    async prepare() {
      const s = await server('jwt')
      const email = `password-grant-${Date.now()}@bench.local`
      await signUp(s.url, email)
      return {
        url: `${s.url}/auth/v1/token?grant_type=password`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: PASSWORD }),
      }
    },
  },
  {
    name: 'reference: SDK stateless Express, tools/call whoami',
    async prepare() {
      const s = await server('jwt')
      const session = await signUp(s.url, `reference-${Date.now()}@bench.local`)
      // The reference checks the JWKS of the same auth, so the token is the same kind.
      return toolsCall(`${await referenceServer(s)}/mcp`, session.access_token, 'whoami')
    },
  },
]

async function run(line: Line): Promise<Figures> {
  const options = await line.prepare()
  const result = await autocannon({ ...options, connections: line.connections ?? connections, duration })
  return {
    name: line.name,
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  }
}

function table(rows: Figures[]): string {
  const health = rows.find((row) => row.name === 'bare /health')?.requestsPerSecond
  const header = ['line', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'vs /health']
  const body = rows.map((row) => [
    row.name,
    String(row.requestsPerSecond),
    String(row.p50),
    String(row.p99),
    String(row.errors),
    String(row.non2xx),
    health ? `${((row.requestsPerSecond / health) * 100).toFixed(1)}%` : '',
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)))
  const format = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(format)].join('\n')
}

async function main() {
  const selected = args.only ? lines.filter((line) => line.name.includes(args.only!)) : lines
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
  process.stdout.write(`atoms-mcp benchmark: ${duration} s per line, ${connections} connections, ${machine}\n`)
  const rows: Figures[] = []
  try {
    for (const line of selected) {
      process.stdout.write(`  running ${line.name}...\n`)
      rows.push(await run(line))
    }
  } finally {
    stopReference.forEach((stop) => stop())
    await Promise.all([...servers.values()].map((s) => s.stop()))
  }
  process.stdout.write(`\n${table(rows)}\n`)
  if (args.json) writeFileSync(args.json, JSON.stringify({ machine, duration, connections, rows }, null, 2))
}

await main()
