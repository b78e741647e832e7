/**
 * `npm run soak -- --minutes N`: two instances behind a loopback load balancer, on one
 * PostgreSQL and one Redis (started here unless TEST_DATABASE_URL / TEST_REDIS_URL name
 * them), under a mix of simple-mode logins, MCP tool calls and embedded-auth refreshes for
 * a bounded time. Prints the requests served, the errors beyond rate limits (which must be
 * 0), and each instance's memory and open descriptors at start and end. Exits 1 on errors.
 * `--seconds N` runs for seconds instead (the test suite's smoke run); `--json FILE` also
 * writes the figures.
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startCluster } from './lib/cluster.ts'
import { keepBusy } from './lib/keep-busy.ts'
import { callTool } from './lib/mcp-call.ts'
import { processStats, type ProcessStats } from './lib/process-stats.ts'
import { createDatabase, startPostgres, startRedis, type PostgresService, type RedisService } from './lib/services.ts'

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    instances: { type: 'string', default: '2' },
    workers: { type: 'string', default: '8' },
    json: { type: 'string' },
  },
})
const MAX_MINUTES = 60
const durationMs = args.seconds ? Number(args.seconds) * 1000 : Math.min(Number(args.minutes ?? 1), MAX_MINUTES) * 60_000
const instanceCount = Number(args.instances)
const workerCount = Number(args.workers)
if (!(durationMs > 0) || !(instanceCount >= 1) || !(workerCount >= 1)) {
  process.stderr.write('usage: npm run soak -- --minutes N (up to 60) [--instances 2] [--workers 8] [--json FILE]\n')
  process.exit(2)
}

const ANON_KEY = 'sb_publishable_atoms_local_embedded_auth'
const PASSWORD = 'correct horse battery'
type Kind = 'login' | 'tool call' | 'refresh'

interface Figures {
  instances: number
  durationSeconds: number
  served: Record<Kind, number>
  rateLimited: number
  errors: number
  errorSamples: string[]
  processes: { url: string; start: ProcessStats; end: ProcessStats }[]
}

async function json(response: Response): Promise<any> {
  const text = await response.text()
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

async function main() {
  let postgres: PostgresService | undefined
  let redis: RedisService | undefined
  let serverUrl = process.env.TEST_DATABASE_URL
  if (!serverUrl) {
    postgres = await startPostgres()
    serverUrl = postgres.url
  }
  let redisUrl = process.env.TEST_REDIS_URL
  if (!redisUrl) {
    const started = await startRedis()
    if ('skipped' in started) process.stdout.write(`  Redis: ${started.skipped}; each instance counts login attempts alone\n`)
    else ((redis = started), (redisUrl = started.url))
  }
  const database = await createDatabase(serverUrl, 'atoms_soak')
  const cluster = await startCluster({
    count: instanceCount,
    databaseUrl: database.url,
    redisUrl,
    // A limit the mix reaches now and then, so that refusals by it are part of the run.
    env: { AUTH_MODE: 'simple', LOGIN_RATE_LIMIT_MAX: '200', TOKEN_CACHE_TTL: '5' },
  })
  const urls = cluster.instances.map((instance) => instance.url)
  const pick = (n: number) => urls[n % urls.length]!
  const served: Record<Kind, number> = { login: 0, 'tool call': 0, refresh: 0 }
  let rateLimited = 0
  let errors = 0
  const errorSamples: string[] = []
  const fail = (what: string) => {
    errors++
    if (errorSamples.length < 10) errorSamples.push(what)
  }

  try {
    // One user per worker, so that a worker's refresh token is never raced by another's.
    const users = await Promise.all(
      Array.from({ length: workerCount }, async (_, i) => {
        const email = `soak-${i}@example.com`
        const signUp = await json(await fetch(`${pick(i)}/auth/v1/signup`, { method: 'POST', headers: { 'content-type': 'application/json', apikey: ANON_KEY }, body: JSON.stringify({ email, password: PASSWORD }) }))
        if (!signUp.access_token) throw new Error(`sign-up of ${email} failed: ${JSON.stringify(signUp)}`)
        return { email, accessToken: signUp.access_token as string, refreshToken: signUp.refresh_token as string }
      }),
    )
    const start = cluster.instances.map((instance) => processStats(instance.child.pid!))
    process.stdout.write(`atoms-mcp soak: ${instanceCount} instances behind ${cluster.url}, ${workerCount} workers, ${durationMs / 1000} s\n`)

    const load = keepBusy(workerCount, async (worker, round) => {
      const user = users[worker]!
      const base = pick(worker + round)
      const kind: Kind = round % 10 === 0 ? 'login' : round % 5 === 0 ? 'refresh' : 'tool call'
      if (kind === 'login') {
        const response = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: user.email, password: PASSWORD }) })
        const body = await json(response)
        if (response.status === 429) rateLimited++
        else if (response.status === 200) ((served.login += 1), (user.accessToken = body.access_token), (user.refreshToken = body.refresh_token))
        else fail(`login on ${base}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`)
      } else if (kind === 'refresh') {
        const response = await fetch(`${base}/auth/v1/token?grant_type=refresh_token`, { method: 'POST', headers: { 'content-type': 'application/json', apikey: ANON_KEY }, body: JSON.stringify({ refresh_token: user.refreshToken }) })
        const body = await json(response)
        if (response.status === 200) ((served.refresh += 1), (user.accessToken = body.access_token), (user.refreshToken = body.refresh_token))
        else fail(`refresh on ${base}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`)
      } else {
        const call =
          round % 3 === 0
            ? callTool(base, user.accessToken, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: `Soak ${worker}-${round}`, slug: `soak-${worker}-${round}` } }, round)
            : round % 3 === 1
              ? callTool(base, user.accessToken, 'entity_tool', { operation: 'list', entity_type: 'organization', limit: 5 }, round)
              : callTool(base, user.accessToken, 'whoami', {}, round)
        const outcome = await call
        if (outcome.status === 200 && !outcome.isError) served['tool call'] += 1
        else fail(`tool call on ${base}: ${outcome.status} ${outcome.text.slice(0, 200)}`)
      }
    })
    await new Promise((resolve) => setTimeout(resolve, durationMs))
    await load.stop()
    const end = cluster.instances.map((instance) => processStats(instance.child.pid!))

    const figures: Figures = {
      instances: instanceCount,
      durationSeconds: durationMs / 1000,
      served,
      rateLimited,
      errors,
      errorSamples,
      processes: urls.map((url, i) => ({ url, start: start[i]!, end: end[i]! })),
    }
    report(figures)
    if (args.json) writeFileSync(args.json, JSON.stringify(figures, null, 2))
    process.exitCode = errors === 0 ? 0 : 1
  } finally {
    await cluster.stop()
    await database.drop()
    await redis?.stop()
    await postgres?.stop()
  }
}

function report(figures: Figures) {
  const total = Object.values(figures.served).reduce((a, b) => a + b, 0)
  const lines = [
    '',
    `requests served   ${total} (${Object.entries(figures.served).map(([kind, n]) => `${kind} ${n}`).join(', ')}), ${(total / figures.durationSeconds).toFixed(1)} req/s`,
    `rate limited      ${figures.rateLimited} logins (429, expected)`,
    `errors            ${figures.errors}${figures.errorSamples.length ? `\n  ${figures.errorSamples.join('\n  ')}` : ''}`,
    '',
    'instance                   RSS start   RSS end   fds start   fds end',
    ...figures.processes.map(
      (p) =>
        `${p.url.padEnd(25)}  ${`${Math.round(p.start.rssKb / 1024)} MiB`.padStart(9)}  ${`${Math.round(p.end.rssKb / 1024)} MiB`.padStart(8)}  ${String(p.start.openFds).padStart(10)}  ${String(p.end.openFds).padStart(8)}`,
    ),
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}

await main()
