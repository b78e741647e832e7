/**
 * `node scripts/memory-check.ts [--tokens N]`: feeds the two verified-token caches (jwt mode's
 * local verifier, bearer mode's remote one) N distinct valid tokens each (1,000,000 by
 * default), in this process, and prints the resident size as it goes. The caches are
 * bounded, so the resident size levels off instead of growing with N. Then the same through
 * the whole server: a jwt-mode server process (embedded database included, started as
 * `npm start` starts it) answers N `whoami` calls over loopback, each with another token, and
 * its resident size is read from /proc while it does, once on the embedded database and once
 * on PostgreSQL. `--verifier local|remote|server|server-postgres` runs one part only.
 *
 * Tokens are HS256 (the project JWT secret), signed here; bearer mode's upstream is an
 * in-process stand-in that accepts every token, since what is measured is this process's memory.
 */
import autocannon from 'autocannon'
import { spawnSync } from 'node:child_process'
import { createHmac, randomUUID } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { KeyStore } from '../src/auth/strategies/key-store.ts'
import { LocalJwtVerifier } from '../src/auth/strategies/local-jwt.ts'
import { RemoteUserVerifier } from '../src/auth/strategies/remote-user.ts'
import type { TokenVerifier } from '../src/auth/strategies/token-verifier.ts'
import type { SupabaseGateway } from '../src/supabase/gateway.ts'
import { processStats } from './lib/process-stats.ts'
import { MCP_HEADERS, toolsCallBody } from './lib/mcp-call.ts'
import { scratchDatabase } from './lib/services.ts'
import { spawnServer } from './lib/spawn-server.ts'
import { startFlags } from './lib/start-command.ts'

const { values: args } = parseArgs({
  options: { tokens: { type: 'string', default: '1000000' }, limit: { type: 'string', default: '250' }, verifier: { type: 'string', default: 'all' } },
})
const TOKENS = Number(args.tokens)
const LIMIT_MB = Number(args.limit)
const SECRET = 'memory-check-secret-at-least-32-characters-long'
const ISSUER = 'http://127.0.0.1/auth/v1'
const AUDIENCE = 'authenticated'

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url')
const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
const sessionId = randomUUID()

/** A Supabase-shaped access token, different for every `n`. */
function token(n: number): string {
  const now = Math.floor(Date.now() / 1000)
  const sub = `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`
  const claims = {
    iss: ISSUER, sub, aud: AUDIENCE, exp: now + 3600, iat: now, email: `user${n}@memory.check`, phone: '',
    app_metadata: { provider: 'email', providers: ['email'] }, user_metadata: {}, role: 'authenticated',
    aal: 'aal1', amr: [{ method: 'password', timestamp: now }], session_id: sessionId, is_anonymous: false,
  }
  const signingInput = `${HEADER}.${base64url(JSON.stringify(claims))}`
  return `${signingInput}.${createHmac('sha256', SECRET).update(signingInput).digest('base64url')}`
}

const acceptingGateway: SupabaseGateway = {
  async getUser(accessToken) {
    const claims = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString())
    return { ok: true, user: { id: claims.sub, email: claims.email, role: 'authenticated' } }
  },
  signInWithPassword: async () => ({ ok: false, status: 400, code: 'unsupported', message: 'not used here' }),
  refreshSession: async () => ({ ok: false, status: 400, code: 'unsupported', message: 'not used here' }),
  signOut: async () => ({ ok: true }),
}

const rssMb = () => process.memoryUsage().rss / 2 ** 20
const heapMb = () => process.memoryUsage().heapUsed / 2 ** 20

// A full collection on demand, to tell what the caches hold from garbage V8 has not yet
// collected (it lets the old generation grow well past what is live before it does).
setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

async function feed(name: string, verifier: TokenVerifier): Promise<number> {
  let peak = rssMb()
  const started = performance.now()
  for (let n = 0; n < TOKENS; n++) {
    const verified = await verifier.verify(token(n))
    if (verified.expiresAt === 0) throw new Error('unreachable: keeps the result alive until here')
    if ((n + 1) % 100_000 === 0 || n + 1 === TOKENS) {
      peak = Math.max(peak, rssMb())
      process.stdout.write(`  ${name}: ${(n + 1).toLocaleString('en')} tokens, RSS ${rssMb().toFixed(0)} MB, heap ${heapMb().toFixed(0)} MB (${((performance.now() - started) / 1000).toFixed(0)} s)\n`)
    }
  }
  collectGarbage()
  process.stdout.write(`  ${name}: after a full collection: heap ${heapMb().toFixed(0)} MB live of ${(process.memoryUsage().heapTotal / 2 ** 20).toFixed(0)} MB held, RSS ${rssMb().toFixed(0)} MB
`)
  return peak
}

/**
 * N `whoami` calls to a jwt-mode server process, each with a token it has not seen, on the
 * embedded database or on PostgreSQL as production runs it.
 */
async function feedServer(backend: 'embedded' | 'postgres'): Promise<number> {
  const database = backend === 'postgres' ? await scratchDatabase('atoms_memory') : undefined
  let server: Awaited<ReturnType<typeof spawnServer>> | undefined
  try {
    server = await spawnServer({ AUTH_MODE: 'jwt', LOG_LEVEL: 'error', SUPABASE_JWT_SECRET: SECRET, JWT_ISSUER: ISSUER, ...(database ? { DATABASE_URL: database.url } : {}) })
    const pid = server.child.pid!
    const rssOfServer = () => processStats(pid).rssKb / 1024
    // Compiling PGlite's WebAssembly takes memory for a moment after start-up; what stays is read after it.
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const what = backend === 'postgres' ? 'PostgreSQL' : 'embedded database'
    process.stdout.write(`memory check, jwt-mode server process (${what}): ${TOKENS.toLocaleString('en')} whoami calls with distinct tokens; RSS at start ${rssOfServer().toFixed(0)} MB\n`)
    let peak = rssOfServer()
    let sent = 0
    const started = performance.now()
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssOfServer())
      process.stdout.write(`  server: ${sent.toLocaleString('en')} calls, RSS ${rssOfServer().toFixed(0)} MB (${((performance.now() - started) / 1000).toFixed(0)} s)\n`)
    }, 10_000)
    const result = await Promise.resolve(autocannon({
      url: `${server.url}/mcp`,
      method: 'POST',
      connections: 50,
      amount: TOKENS,
      headers: MCP_HEADERS,
      body: toolsCallBody('whoami'),
      requests: [{ setupRequest: (request: any) => ({ ...request, headers: { ...request.headers, authorization: `Bearer ${token(sent++)}` } }) }],
    })).finally(() => clearInterval(sampler))
    peak = Math.max(peak, rssOfServer())
    if (result.non2xx || result.errors || result.timeouts) throw new Error(`the server refused calls: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`)
    process.stdout.write(`  server: ${result.requests.total.toLocaleString('en')} calls answered 200 (${Math.round(result.requests.average)}/s), RSS at the end ${rssOfServer().toFixed(0)} MB\n`)
    return peak
  } finally {
    await server?.stop()
    await database?.drop()
  }
}

/** Prints a peak against the bound; the exit code is 1 when it is over. */
function reportPeak(peak: number): number {
  process.stdout.write(`  peak RSS ${peak.toFixed(0)} MB: ${peak < LIMIT_MB ? 'under' : 'OVER'} the ${LIMIT_MB} MB bound\n`)
  return peak < LIMIT_MB ? 0 : 1
}

const checkServer = async (backend: 'embedded' | 'postgres') => reportPeak(await feedServer(backend))

if (args.verifier === 'server' || args.verifier === 'server-postgres') {
  process.exitCode = await checkServer(args.verifier === 'server' ? 'embedded' : 'postgres')
} else if (args.verifier === 'all') {
  // Each verifier in a process of its own, so neither's figures carry the other's memory,
  // with the Node flags of `npm start` (which bound V8's young generation).
  let status = 0
  for (const verifier of ['local', 'remote']) {
    const run = spawnSync(process.execPath, [...process.execArgv, ...startFlags(), process.argv[1]!, '--verifier', verifier, '--tokens', String(TOKENS), '--limit', String(LIMIT_MB)], { stdio: 'inherit' })
    status ||= run.status ?? 1
  }
  for (const backend of ['embedded', 'postgres'] as const) {
    const outcome = await checkServer(backend)
    status ||= outcome
  }
  process.exitCode = status
} else {
  const log = pino({ level: 'silent' })
  const verifier: [string, TokenVerifier] =
    args.verifier === 'local'
      ? ['jwt mode (local verification)', new LocalJwtVerifier(new KeyStore({ jwksUrl: undefined, secret: SECRET, timeoutMs: 1000, log }), { issuer: ISSUER, audience: AUDIENCE })]
      : ['bearer mode (remote verification)', new RemoteUserVerifier(acceptingGateway, { issuer: ISSUER, audience: AUDIENCE, cacheTtlSeconds: 3600 })]
  process.stdout.write(`memory check, ${verifier[0]}: ${TOKENS.toLocaleString('en')} distinct tokens; RSS at start ${rssMb().toFixed(0)} MB\n`)
  process.exitCode = reportPeak(await feed(...verifier))
}
