/**
 * `npm run bench`: starts the server in its own processes (embedded auth, embedded
 * database), prepares users and tokens, loads each line with autocannon over loopback (the
 * full OAuth flow, many requests each, in concurrent loops of whole flows) and prints one
 * table, with ratios against the reference lines (the SDK v1 stateless Express pattern and the
 * SDK v2 `createMcpHandler` for the 2026-07-28 lines, run in
 * the same bench) and against bare /health, then the measurements that are not request
 * rates (start-up time, upstream calls per token) and the targets they meet.
 *
 * `--profile DIR` writes a CPU profile of each server process into DIR when it stops.
 * `--smoke` runs each line for a moment only (the test suite uses it to keep this script
 * working); `--json FILE` also writes the figures. The load generator runs on the same
 * machine as the servers, so it takes part of the same cores.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { spawn } from 'node:child_process'
import { keepBusy } from './lib/keep-busy.ts'
import { completeFlow, FlowStepError } from './lib/oauth-flow.ts'
import { freePort } from './lib/ports.ts'
import { MCP_HEADERS, modernToolsCall, toolsCallBody } from './lib/mcp-call.ts'
import { scratchDatabase } from './lib/services.ts'
import { spawnServer, type ServerProcess } from './lib/spawn-server.ts'
import { entityFixture, inProcessCaller, rawPglite, rawPostgres, rawTask, userOfToken, type EntityFixture, type RawDatabase, type ToolArgs } from './lib/entity-lines.ts'

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    json: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    profile: { type: 'string' },
  },
})
/** In smoke mode every line runs a fraction of a second: the suite checks that each works, not how fast. */
const duration = Number(args.duration ?? (args.smoke ? 0.2 : 10))
const connections = Number(args.connections)
/**
 * Each line runs once per round, the lines taking turns, and its best round is reported: on
 * a machine shared with other work, a burst of it then spoils one round of a line, not the line.
 */
const rounds = Math.max(1, Number(args.rounds))
/** Distinct tokens for the bearer cold-cache line (fewer in smoke mode, where only the path matters). */
const DISTINCT_TOKENS = args.smoke ? 20 : 1000
const CALLS_PER_TOKEN = 5
const PROJECTS = args.smoke ? 5 : 50
/** Documents and requirements each for the link lines: ends² x 4 kinds distinct links to make. */
const LINK_ENDS = args.smoke ? 8 : 100

interface Line {
  name: string
  /** Fewer connections where the server is meant to be slow (bcrypt). */
  connections?: number
  /** Not held to the p99 target (bcrypt-bound lines, which rate limits are for). */
  bcryptBound?: boolean
  prepare(): Promise<Load>
  /** Extra figures read after the run (upstream calls per token). */
  after?(): Promise<Record<string, number>>
  /** Prepared again for every round (its run changes what it measures, as a cold cache). */
  fresh?: boolean
  /** The name of the raw line this line is compared with. */
  raw?: string
}

/**
 * What a line loads the server with: requests autocannon sends, or a task of several requests
 * (an OAuth flow) run over and over by `connections` loops and timed as a whole.
 */
type Load = autocannon.Options | { task: () => Promise<void>; amount?: number }

interface Figures {
  name: string
  /** Whole tasks per second, and their latency, on a line of tasks (`tasks` set). */
  requestsPerSecond: number
  p50: number
  p99: number
  errors: number
  non2xx: number
  connections: number
  bcryptBound?: boolean
  /** Tasks completed, on a line of tasks. */
  tasks?: number
  extra?: Record<string, number>
  /** This line as a share of its raw line's rate, where it has one. */
  vsRaw?: number
}

type ServerKey = 'jwt' | 'jwt-postgres' | 'bearer' | 'simple' | 'bearer-counted' | 'oauth'

const servers = new Map<ServerKey, ServerProcess>()
const nodeFlags = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : []
let benchDatabase: Awaited<ReturnType<typeof scratchDatabase>> | undefined
const jwtDataDir = mkdtempSync(join(tmpdir(), 'atoms-mcp-bench-jwt-'))
/** One server process per configuration, started on first use and shared by the lines. */
async function server(key: ServerKey): Promise<ServerProcess> {
  let running = servers.get(key)
  if (!running) {
    const env: Record<Exclude<ServerKey, 'jwt-postgres'>, Record<string, string>> = {
      // /bench/mcp (no authentication) lives on the jwt server, so both lines share a process.
      // The password-grant line runs here too: the limiter counts but does not refuse.
      jwt: { AUTH_MODE: 'jwt', BENCH_UNAUTHENTICATED_MCP: 'true', LOGIN_RATE_LIMIT_MAX: '100000' },
      bearer: { AUTH_MODE: 'bearer' },
      // The limiter would otherwise refuse all but 10 sign-ins a minute; its cost stays in the line.
      simple: { AUTH_MODE: 'simple', LOGIN_RATE_LIMIT_MAX: '100000' },
      // Logs each request, to count the calls that reach /auth/v1/user.
      'bearer-counted': { AUTH_MODE: 'bearer', LOG_LEVEL: 'info' },
      // Every flow registers a client and signs in from one address: the limiters would refuse
      // all but 20 registrations an hour and 10 sign-ins a minute; their cost stays in the line.
      oauth: { AUTH_MODE: 'oauth', OAUTH_REGISTRATIONS_PER_HOUR: '100000', LOGIN_RATE_LIMIT_MAX: '100000' },
    }
    if (key === 'jwt-postgres') {
      // The production database: a PostgreSQL server, the pool and RLS queries running beside this process.
      benchDatabase = await scratchDatabase('atoms_bench')
      running = await spawnServer({ LOG_LEVEL: 'error', AUTH_MODE: 'jwt', DATABASE_URL: benchDatabase.url }, { nodeFlags })
    } else {
      // The jwt server's data folder outlives it: the start-up measurement restarts on it.
      running = await spawnServer({ LOG_LEVEL: 'error', ...env[key] }, { nodeFlags, ...(key === 'jwt' ? { dataDir: jwtDataDir } : {}) })
    }
    servers.set(key, running)
  }
  return running
}

const PASSWORD = 'bench-password-1'
let emails = 0
const uniqueEmail = (what: string) => `${what}-${Date.now()}-${emails++}@bench.local`

interface Session {
  access_token: string
  refresh_token: string
  user: { id: string }
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<any> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const text = await response.text()
  if (!response.ok) throw new Error(`POST ${url} failed: ${response.status} ${text}`)
  return text ? JSON.parse(text) : undefined
}

const signUp = (base: string, email: string): Promise<Session> => postJson(`${base}/auth/v1/signup`, { email, password: PASSWORD })
const refresh = (base: string, refreshToken: string): Promise<Session> =>
  postJson(`${base}/auth/v1/token?grant_type=refresh_token`, { refresh_token: refreshToken })

/** The protocol era a line's calls are made in: 2025 (a negotiated session's headers) or 2026-07-28 (the `_meta` envelope). */
type Era = '2025' | '2026-07-28'

/** A JSON-RPC `tools/call` as MCP clients send it over Streamable HTTP, in `era`. */
function toolsCall(url: string, token: string | undefined, name: string, args: Record<string, unknown> = {}, era: Era = '2025'): autocannon.Options {
  const call = era === '2025' ? { headers: MCP_HEADERS, body: toolsCallBody(name, args) } : modernToolsCall(name, args)
  return { url, method: 'POST', headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...call.headers }, body: call.body }
}

/** Calls a tool once, outside the load, and returns its JSON result; a failed call stops the bench. */
async function callTool(url: string, token: string | undefined, name: string, args: Record<string, unknown> = {}, era: Era = '2025'): Promise<any> {
  const options = toolsCall(url, token, name, args, era)
  const response = await fetch(url, { method: 'POST', headers: options.headers as Record<string, string>, body: options.body as string })
  const message = (await response.json()) as any
  const result = message.result
  if (!response.ok || !result || result.isError) throw new Error(`${name} at ${url} failed: ${response.status} ${JSON.stringify(message).slice(0, 500)}`)
  return JSON.parse(result.content[0].text)
}

const stopReference: (() => void)[] = []
/**
 * A reference server in its own process (`script` under scripts/bench-reference: the SDK v1
 * stateless Express pattern, or the SDK v2 `createMcpHandler`), checking tokens of the jwt server.
 */
async function referenceServer(auth: ServerProcess, script: 'stateless-express.ts' | 'v2-handler.ts'): Promise<string> {
  const port = await freePort()
  const child = spawn(process.execPath, [`scripts/bench-reference/${script}`], {
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

/** A whole OAuth flow of a new client for `email`: register, authorize, sign in, approve, token. */
const oauthFlow = (base: string, email: string) => completeFlow(base, { email, password: PASSWORD }, { resource: `${base}/mcp` })

/**
 * A whoami line on a server of `mode`, checked once before it is loaded. In oauth mode the
 * token is the access token of a real flow; elsewhere the embedded auth's own.
 */
async function whoami(mode: 'jwt' | 'bearer' | 'simple' | 'oauth', era: Era = '2025'): Promise<autocannon.Options> {
  const s = await server(mode)
  const email = uniqueEmail(`whoami-${mode}`)
  const session = await signUp(s.url, email)
  const token = mode === 'oauth' ? (await oauthFlow(s.url, email)).tokens.access_token : session.access_token
  const me = await callTool(`${s.url}/mcp`, token, 'whoami', {}, era)
  if (me.id !== session.user.id || me.mode !== mode) throw new Error(`whoami in ${mode} mode answered ${JSON.stringify(me)}`)
  return toolsCall(`${s.url}/mcp`, token, 'whoami', {}, era)
}

/** `count` distinct access tokens of one user, by refreshing its session (no bcrypt per token). */
async function distinctTokens(base: string, count: number): Promise<string[]> {
  const chains = 8
  const tokens = new Set<string>()
  await Promise.all(
    Array.from({ length: chains }, async (_, chain) => {
      let session = await signUp(base, uniqueEmail(`tokens-${chain}`))
      for (let i = chain; i < count; i += chains) {
        tokens.add(session.access_token)
        session = await refresh(base, session.refresh_token)
      }
    }),
  )
  return [...tokens].slice(0, count)
}

/** Requests that reached `url` since the server started, read from its request log. */
function arrivals(s: ServerProcess, url: string): number {
  let count = 0
  for (const line of s.output().split('\n')) {
    if (!line.includes('"incoming request"')) continue
    try {
      if (JSON.parse(line).req?.url === url) count++
    } catch {
      /* not a log line */
    }
  }
  return count
}

type EntityKey = 'jwt' | 'jwt-postgres'
const BACKEND_NAME: Record<EntityKey, string> = { jwt: 'embedded', 'jwt-postgres': 'PostgreSQL' }

interface EntityScene {
  mcp: string
  token: string
  fixture: EntityFixture
}

/** `make` run once per key, its promise shared by every later call. */
function oncePerKey<K, V>(make: (key: K) => Promise<V>): ((key: K) => Promise<V>) & { made: Map<K, Promise<V>> } {
  const made = new Map<K, Promise<V>>()
  const get = (key: K) => {
    let value = made.get(key)
    if (!value) made.set(key, (value = make(key)))
    return value
  }
  return Object.assign(get, { made })
}

/** One user, organization and set of entities per backend, made through the tool on first use. */
const entityScene = oncePerKey(async (key: EntityKey): Promise<EntityScene> => {
  const s = await server(key)
  const mcp = `${s.url}/mcp`
  const { access_token: token } = await signUp(s.url, uniqueEmail('entities'))
  const fixture = await entityFixture((name, args) => callTool(mcp, token, name, args), { projects: PROJECTS, linkEnds: LINK_ENDS }, `bench-${Date.now()}-${emails++}`)
  return { mcp, token, fixture }
})

interface RawScene {
  raw: RawDatabase
  fixture: EntityFixture
}

/**
 * The raw side of a backend: PostgreSQL is the server's own database, reached by a pool of
 * the server's size; the embedded database is a PGlite of its own in this process (the
 * server holds its folder), given the same entities by the tool's own code.
 */
const rawScene = oncePerKey(async (key: EntityKey): Promise<RawScene> => {
  const { token, fixture } = await entityScene(key)
  if (key === 'jwt-postgres') return { raw: await rawPostgres(benchDatabase!.url), fixture }
  const raw = await rawPglite()
  const own = await entityFixture(inProcessCaller(raw.db, userOfToken(token)), { projects: PROJECTS, linkEnds: LINK_ENDS }, `bench-raw-${Date.now()}`)
  return { raw, fixture: own }
})

type EntityOperation = 'list' | 'read' | 'search' | 'create' | 'link'

/** The links a link line may make in one run: its share of the fixture's, so that no run runs out. */
const linkBudget = (fixture: EntityFixture) => Math.floor(fixture.linksLeft() / (2 * rounds))

const argsOf = (fixture: EntityFixture, operation: Exclude<EntityOperation, 'link'>): ToolArgs =>
  ({ list: fixture.listArgs, read: fixture.readArgs, search: fixture.searchArgs, create: fixture.createArgs })[operation]

/** One entity operation through the tool over HTTP, checked once before it is loaded. */
async function entityLoad(key: EntityKey, operation: EntityOperation): Promise<Load> {
  const { mcp, token, fixture } = await entityScene(key)
  if (operation === 'link') {
    const link = await callTool(mcp, token, 'relationship_tool', fixture.nextLink())
    if (!link.id) throw new Error(`link answered ${JSON.stringify(link)}`)
    return {
      ...toolsCall(mcp, token, 'relationship_tool', fixture.nextLink()),
      maxOverallRequests: linkBudget(fixture),
      requests: [{ setupRequest: (request: any) => ({ ...request, body: toolsCallBody('relationship_tool', fixture.nextLink()) }) }],
    }
  }
  const args = argsOf(fixture, operation)
  const result = await callTool(mcp, token, 'entity_tool', args)
  if (operation === 'list' && result.items.length !== PROJECTS) throw new Error(`list returned ${result.items.length} projects, not ${PROJECTS}`)
  if (operation === 'search' && !result.items.length) throw new Error('search found nothing')
  return toolsCall(mcp, token, 'entity_tool', args)
}

async function rawLoad(key: EntityKey, operation: EntityOperation): Promise<Load> {
  const { token } = await entityScene(key)
  const { raw, fixture } = await rawScene(key)
  return { task: await rawTask(raw.db, userOfToken(token), fixture, operation), ...(operation === 'link' ? { amount: linkBudget(fixture) } : {}) }
}

const ENTITY_OPERATIONS: Record<EntityOperation, string> = {
  list: `entity_tool list (${PROJECTS} projects)`,
  read: 'entity_tool read by id',
  search: 'entity_tool search (10 best)',
  create: 'entity_tool create (document)',
  link: 'relationship_tool link (entity to entity)',
}

/** Each entity operation on each backend: the tool's line, then its raw line. */
function entityLines(): Line[] {
  const out: Line[] = []
  for (const key of ['jwt', 'jwt-postgres'] as const) {
    for (const operation of Object.keys(ENTITY_OPERATIONS) as EntityOperation[]) {
      const what = `${ENTITY_OPERATIONS[operation]}, jwt mode, ${BACKEND_NAME[key]}`
      const rawName = `raw SQL: ${what}`
      out.push({ name: `tools/call ${what}`, raw: rawName, prepare: () => entityLoad(key, operation) })
      out.push({ name: rawName, prepare: () => rawLoad(key, operation) })
    }
  }
  return out
}

/** Calls to /auth/v1/user the counted bearer server had received before the cold line. */
let coldBaseline = 0

/** The name the SDK v2 reference line starts with; 2026-07-28 lines are compared with it. */
const V2_REFERENCE = 'reference: SDK v2 createMcpHandler'

const lines: Line[] = [
  {
    name: 'bare /health',
    async prepare() {
      const s = await server('jwt')
      return { url: `${s.url}/health` }
    },
  },
  {
    name: 'reference: SDK v1 stateless Express, tools/call whoami',
    async prepare() {
      const s = await server('jwt')
      const session = await signUp(s.url, uniqueEmail('reference'))
      // The reference checks the JWKS of the same auth, so the token is the same kind.
      return toolsCall(`${await referenceServer(s, 'stateless-express.ts')}/mcp`, session.access_token, 'whoami')
    },
  },
  {
    name: `${V2_REFERENCE}, tools/call whoami 2026-07-28`,
    async prepare() {
      const s = await server('jwt')
      const session = await signUp(s.url, uniqueEmail('reference-v2'))
      const url = `${await referenceServer(s, 'v2-handler.ts')}/mcp`
      await callTool(url, session.access_token, 'whoami', {}, '2026-07-28')
      return toolsCall(url, session.access_token, 'whoami', {}, '2026-07-28')
    },
  },
  { name: 'tools/call whoami, jwt mode', prepare: () => whoami('jwt') },
  { name: 'tools/call whoami 2026-07-28, jwt mode', prepare: () => whoami('jwt', '2026-07-28') },
  {
    name: 'tools/call whoami, no auth (bench-only route)',
    async prepare() {
      const s = await server('jwt')
      // The same request as the jwt line, token included (the route ignores it): the
      // difference between the two lines is then the server's authentication work alone,
      // not the kilobyte of header the load generator sends and the server parses.
      const { access_token: token } = await signUp(s.url, uniqueEmail('no-auth'))
      await callTool(`${s.url}/bench/mcp`, token, 'whoami')
      return toolsCall(`${s.url}/bench/mcp`, token, 'whoami')
    },
  },
  { name: 'tools/call whoami, bearer mode (warm cache)', prepare: () => whoami('bearer') },
  {
    name: `tools/call whoami, bearer mode, ${DISTINCT_TOKENS} distinct tokens (cold)`,
    fresh: true,
    async prepare() {
      const s = await server('bearer-counted')
      const tokens = await distinctTokens(s.url, DISTINCT_TOKENS)
      if (new Set(tokens).size !== DISTINCT_TOKENS) throw new Error('the tokens are not distinct')
      coldBaseline = arrivals(s, '/auth/v1/user')
      let next = 0
      return {
        ...toolsCall(`${s.url}/mcp`, tokens[0], 'whoami'),
        // Every token is asked for CALLS_PER_TOKEN times, the first ones concurrently.
        amount: DISTINCT_TOKENS * CALLS_PER_TOKEN,
        requests: [
          {
            setupRequest(request: any) {
              const token = tokens[next++ % tokens.length]
              return { ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } }
            },
          },
        ],
      }
    },
    async after() {
      const s = await server('bearer-counted')
      // The log is written asynchronously; give the last lines a moment to arrive.
      await new Promise((r) => setTimeout(r, 300))
      const calls = arrivals(s, '/auth/v1/user') - coldBaseline
      return { distinctTokens: DISTINCT_TOKENS, upstreamCalls: calls, upstreamCallsPerToken: calls / DISTINCT_TOKENS }
    },
  },
  { name: 'tools/call whoami, simple mode', prepare: () => whoami('simple') },
  { name: 'tools/call whoami, oauth mode', prepare: () => whoami('oauth') },
  ...entityLines(),
  {
    name: 'embedded auth GET /auth/v1/user',
    async prepare() {
      const s = await server('jwt')
      const session = await signUp(s.url, uniqueEmail('user-endpoint'))
      return { url: `${s.url}/auth/v1/user`, headers: { authorization: `Bearer ${session.access_token}` } }
    },
  },
  passwordLine('embedded auth password grant (bcrypt)', 'jwt', async (base, email) => ({
    url: `${base}/auth/v1/token?grant_type=password`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  })),
  passwordLine('POST /auth/login, simple mode (bcrypt)', 'simple', async (base, email) => {
    const options = { url: `${base}/auth/login`, method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD }) }
    await postJson(options.url, { email, password: PASSWORD })
    return options
  }),
  passwordLine('full OAuth flow (register, authorize, sign-in, token)', 'oauth', async (base, email) => {
    // A flow that fails here stops the bench before the line is loaded.
    await oauthFlow(base, email)
    return { task: () => oauthFlow(base, email).then(() => {}) }
  }),
]

/**
 * A line whose every request (or task) checks a password with bcrypt: fewer connections, and
 * one user signed up beforehand on the `key` server.
 */
function passwordLine(name: string, key: ServerKey, load: (base: string, email: string) => Promise<Load>): Line {
  return {
    name,
    connections: 8,
    bcryptBound: true,
    async prepare() {
      const s = await server(key)
      const email = uniqueEmail(key)
      await signUp(s.url, email)
      return load(s.url, email)
    },
  }
}

const prepared = new Map<Line, Load>()

type Measured = Pick<Figures, 'requestsPerSecond' | 'p50' | 'p99' | 'errors' | 'non2xx' | 'tasks'>

async function autocannonLoad(options: autocannon.Options, lineConnections: number, seconds: number): Promise<Measured> {
  const result = await autocannon({ duration: seconds, ...options, connections: lineConnections })
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0

/**
 * `loops` concurrent loops of `task` for the duration; a task the server refused (a step that
 * answered otherwise) is a non-2xx, any other failure an error. Tasks under way at the end
 * finish and count, over the time they took.
 */
async function taskLoad(task: () => Promise<void>, loops: number, runFor: number, amount = Infinity): Promise<Measured> {
  const latencies: number[] = []
  let errors = 0
  let non2xx = 0
  let begunTasks = 0
  let done: () => void = () => {}
  const started = performance.now()
  const load = keepBusy(loops, async () => {
    if (begunTasks >= amount) return done()
    begunTasks++
    const begun = performance.now()
    try {
      await task()
      latencies.push(performance.now() - begun)
    } catch (error) {
      if (error instanceof FlowStepError) non2xx++
      else errors++
    }
  })
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, runFor * 1000)
    done = () => {
      clearTimeout(timer)
      resolve()
    }
  })
  await load.stop()
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return {
    requestsPerSecond: Math.round((latencies.length / seconds) * 10) / 10,
    p50: Math.round(percentile(latencies, 50)),
    p99: Math.round(percentile(latencies, 99)),
    errors,
    non2xx,
    tasks: latencies.length,
  }
}

async function run(line: Line): Promise<Figures> {
  const lineConnections = line.connections ?? connections
  let load = prepared.get(line)
  if (!load || line.fresh) {
    load = await line.prepare()
    prepared.set(line, load)
  }
  const measured = 'task' in load ? await taskLoad(load.task, lineConnections, duration, load.amount) : await autocannonLoad(load, lineConnections, duration)
  return {
    name: line.name,
    ...measured,
    connections: lineConnections,
    ...(line.bcryptBound ? { bcryptBound: true } : {}),
    ...(line.after ? { extra: await line.after() } : {}),
  }
}

/**
 * Start-up to `/ready` on the data folder the jwt server used (migrated, signing key written,
 * users and projects in it): the time from spawning `node src/main.ts` to the first 200.
 */
async function startupToReady(): Promise<number> {
  const started = performance.now()
  const again = await spawnServer({ AUTH_MODE: 'jwt', LOG_LEVEL: 'error' }, { dataDir: jwtDataDir, pollMs: 5 })
  const ms = performance.now() - started
  await again.stop()
  return Math.round(ms)
}

const percent = (value: number) => `${(value * 100).toFixed(1)}%`
const rateOf = (rows: Figures[], prefix: string) => rows.find((row) => row.name.startsWith(prefix))?.requestsPerSecond ?? undefined

function table(rows: Figures[]): string {
  const health = rateOf(rows, 'bare /health')
  const reference = rateOf(rows, 'reference: SDK v1')
  const referenceV2 = rateOf(rows, V2_REFERENCE)
  const header = ['line', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'vs reference', 'vs /health', 'vs raw']
  const body = rows.map((row) => {
    return [
      row.name,
      String(row.requestsPerSecond),
      String(row.p50),
      String(row.p99),
      String(row.errors),
      String(row.non2xx),
      ((against) => (against ? `${(row.requestsPerSecond / against).toFixed(2)}x` : ''))(row.name.includes('2026-07-28') ? referenceV2 : reference),
      health ? percent(row.requestsPerSecond / health) : '',
      row.vsRaw !== undefined ? percent(row.vsRaw) : '',
    ]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)))
  const format = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(format)].join('\n')
}

interface Target {
  target: string
  figure: string
  met: boolean
}

/** The targets of the performance work, each with the figure of this run. */
function targets(rows: Figures[], startupMs: number | undefined): Target[] {
  const out: Target[] = []
  const jwt = rateOf(rows, 'tools/call whoami, jwt mode')
  const noAuth = rateOf(rows, 'tools/call whoami, no auth')
  const bearer = rateOf(rows, 'tools/call whoami, bearer mode (warm')
  const health = rateOf(rows, 'bare /health')
  const reference = rateOf(rows, 'reference: SDK v1')
  const modern = rateOf(rows, 'tools/call whoami 2026-07-28, jwt mode')
  const referenceV2 = rateOf(rows, V2_REFERENCE)
  if (jwt && reference) out.push({ target: 'whoami (jwt, 2025) >= 10x the SDK v1 reference', figure: `${(jwt / reference).toFixed(1)}x`, met: jwt >= 10 * reference })
  if (modern && referenceV2) {
    out.push({ target: 'whoami (jwt, 2026-07-28) >= 10x the SDK v2 reference', figure: `${(modern / referenceV2).toFixed(1)}x`, met: modern >= 10 * referenceV2 })
  }
  if (modern && jwt) out.push({ target: 'whoami 2026-07-28 within 10% of 2025', figure: `${percent(modern / jwt)} of 2025`, met: modern >= 0.9 * jwt })
  if (jwt && health) out.push({ target: 'whoami (jwt) >= 25% of bare /health', figure: percent(jwt / health), met: jwt >= 0.25 * health })
  if (jwt && noAuth) {
    // The share of a call's time that authentication takes: 1/jwt - 1/noAuth over 1/jwt.
    const share = Math.max(0, 1 - jwt / noAuth)
    out.push({ target: 'authentication <= 10% of the whoami call', figure: percent(share), met: share <= 0.1 })
  }
  const oauth = rateOf(rows, 'tools/call whoami, oauth mode')
  if (jwt && oauth) out.push({ target: 'oauth (our own tokens) within 10% of jwt', figure: `${percent(oauth / jwt)} of jwt`, met: oauth >= 0.9 * jwt })
  if (jwt && bearer) out.push({ target: 'bearer (warm) within 10% of jwt', figure: `${percent(bearer / jwt)} of jwt`, met: bearer >= 0.9 * jwt })
  const cold = rows.find((row) => row.extra?.upstreamCallsPerToken !== undefined)
  if (cold?.extra) {
    out.push({
      target: 'one upstream call per distinct token',
      figure: `${cold.extra.upstreamCalls} calls for ${cold.extra.distinctTokens} tokens`,
      met: cold.extra.upstreamCalls === cold.extra.distinctTokens,
    })
  }
  // The reference and raw lines are not this server's, and bcrypt-bound lines are what rate limits are for.
  const measured = rows.filter((row) => !row.bcryptBound && !row.name.startsWith('reference:') && !row.name.startsWith('raw SQL:'))
  const slow = measured.filter((row) => row.p99 >= 25)
  if (measured.length) {
    out.push({
      target: `p99 < 25 ms at ${connections} connections (this server, all but bcrypt lines)`,
      figure: slow.length ? slow.map((row) => `${row.name}: ${row.p99} ms`).join('; ') : `max ${Math.max(...measured.map((row) => row.p99))} ms`,
      met: slow.length === 0,
    })
  }
  for (const row of rows.filter((r) => r.vsRaw !== undefined && r.name.endsWith('PostgreSQL'))) {
    out.push({ target: `${row.name.replace('tools/call ', '')} >= 70% of its raw line`, figure: percent(row.vsRaw!), met: row.vsRaw! >= 0.7 })
  }
  for (const [operation, share] of [['list', 0.06], ['read', 0.18]] as const) {
    const line = rows.find((r) => r.name.startsWith(`tools/call entity_tool ${operation}`) && r.name.endsWith('embedded'))
    if (line && jwt) out.push({ target: `${operation} (embedded) >= ${share * 100}% of whoami (jwt)`, figure: percent(line.requestsPerSecond / jwt), met: line.requestsPerSecond >= share * jwt })
  }
  if (startupMs !== undefined) out.push({ target: 'start-up to /ready < 2 s (existing data folder)', figure: `${startupMs} ms`, met: startupMs < 2000 })
  return out
}

async function main() {
  // `--only a|b`: the lines whose name holds any of the parts.
  const only = args.only?.split('|')
  const selected = only ? lines.filter((line) => only.some((part) => line.name.includes(part))) : lines
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
  process.stdout.write(`atoms-mcp benchmark: ${duration} s per line, ${connections} connections, best of ${rounds} round${rounds > 1 ? 's' : ''}, ${machine}\n`)
  process.stdout.write('(the load generator runs on the same machine and shares its cores with the servers)\n')
  const rows: Figures[] = []
  let startupMs: number | undefined
  try {
    const best = new Map<Line, Figures>()
    for (let round = 1; round <= rounds; round++) {
      for (const line of selected) {
        process.stdout.write(`  ${rounds > 1 ? `round ${round}: ` : ''}running ${line.name}...\n`)
        const figures = await run(line)
        const previous = best.get(line)
        if (!previous || figures.requestsPerSecond > previous.requestsPerSecond) best.set(line, figures)
      }
    }
    rows.push(...selected.map((line) => best.get(line)!))
    for (const line of selected) {
      const raw = line.raw && rows.find((row) => row.name === line.raw)
      if (raw && raw.requestsPerSecond) best.get(line)!.vsRaw = best.get(line)!.requestsPerSecond / raw.requestsPerSecond
    }
  } finally {
    await Promise.all([...rawScene.made.values()].map((scene) => scene.then((s) => s.raw.close(), () => {})))
    stopReference.forEach((stop) => stop())
    await Promise.all([...servers.values()].map((s) => s.stop()))
    await benchDatabase?.drop()
  }
  try {
    if (servers.has('jwt')) {
      process.stdout.write('  measuring start-up with an existing data folder...\n')
      for (let round = 1; round <= rounds; round++) {
        const ms = await startupToReady()
        startupMs = startupMs === undefined ? ms : Math.min(startupMs, ms)
      }
    }
  } finally {
    rmSync(jwtDataDir, { recursive: true, force: true })
  }
  process.stdout.write(`\n${table(rows)}\n`)
  for (const row of rows) {
    if (row.tasks !== undefined) process.stdout.write(`${row.name}: ${row.tasks} whole flows by ${row.connections} loops; req/s, p50 and p99 are of whole flows\n`)
  }
  for (const row of rows) {
    if (row.extra?.upstreamCallsPerToken !== undefined) {
      process.stdout.write(`\nbearer mode, ${row.extra.distinctTokens} distinct tokens x ${CALLS_PER_TOKEN} calls: ${row.extra.upstreamCalls} calls to /auth/v1/user (${row.extra.upstreamCallsPerToken.toFixed(2)} per token)\n`)
    }
  }
  if (startupMs !== undefined) process.stdout.write(`start-up to /ready with an existing data folder: ${startupMs} ms\n`)
  const goals = targets(rows, startupMs)
  process.stdout.write('\ntargets:\n')
  for (const goal of goals) process.stdout.write(`  [${goal.met ? 'met' : 'MISSED'}] ${goal.target}: ${goal.figure}\n`)
  if (args.json) writeFileSync(args.json, JSON.stringify({ machine, duration, connections, rounds, rows, startupMs, targets: goals }, null, 2))
}

await main()
