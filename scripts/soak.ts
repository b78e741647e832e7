/**
 * `npm run soak -- --minutes N`: two clusters of `--instances` (2) instances, each behind
 * its own loopback load balancer, one in simple mode and one in oauth mode, all on one
 * PostgreSQL database and one Redis (started here unless TEST_DATABASE_URL / TEST_REDIS_URL
 * name them), under a mix for a bounded time: simple-mode logins, MCP tool calls and
 * embedded-auth refreshes; whole OAuth flows whose steps hop between the oauth instances,
 * OAuth refreshes and tool calls with OAuth tokens, for the same users. Prints the requests
 * served, the errors beyond rate limits (which must be 0), and each instance's memory and
 * open descriptors at start and end, with a progress line every 30 s. Exits 1 on errors.
 * `--seconds N` runs for seconds instead (the test suite's smoke run); `--json FILE` also
 * writes the figures.
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startCluster, type Cluster } from './lib/cluster.ts'
import { keepBusy } from './lib/keep-busy.ts'
import { callTool } from './lib/mcp-call.ts'
import { completeFlow, FlowStepError, refreshTokens, type FlowStep } from './lib/oauth-flow.ts'
import { processStats, type ProcessStats } from './lib/process-stats.ts'
import { scratchDatabase, startRedis, type RedisService } from './lib/services.ts'

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
type Kind = 'login' | 'tool call' | 'refresh' | 'oauth flow' | 'oauth refresh' | 'oauth tool call'
type Mode = 'simple' | 'oauth'

interface Figures {
  /** Instances in each of the two clusters. */
  instances: number
  durationSeconds: number
  served: Record<Kind, number>
  rateLimited: number
  errors: number
  errorSamples: string[]
  processes: { url: string; mode: Mode; start: ProcessStats; end: ProcessStats }[]
  /** Taken every PROGRESS_SECONDS while the load runs, to show memory and descriptors level off. */
  progress: { seconds: number; served: number; errors: number; rssMb: number[]; openFds: number[] }[]
}

const PROGRESS_SECONDS = 30

/** The order of a flow's steps: each goes to the next instance of the oauth cluster. */
const FLOW_STEPS: FlowStep[] = ['register', 'authorize', 'sign-in', 'consent', 'token', 'refresh']

async function json(response: Response): Promise<any> {
  const text = await response.text()
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

async function main() {
  let redis: RedisService | undefined
  let redisUrl = process.env.TEST_REDIS_URL
  if (!redisUrl) {
    const started = await startRedis()
    if ('skipped' in started) process.stdout.write(`  Redis: ${started.skipped}; each instance counts login attempts alone\n`)
    else ((redis = started), (redisUrl = started.url))
  }
  const database = await scratchDatabase('atoms_soak')
  const clusters: Cluster[] = []
  try {
    const start = async (mode: Mode, env: Record<string, string>) => {
      const cluster = await startCluster({ count: instanceCount, databaseUrl: database.url, redisUrl, env: { AUTH_MODE: mode, TOKEN_CACHE_TTL: '5', ...env } })
      clusters.push(cluster)
      return cluster
    }
    const started = await Promise.allSettled([
      // A login limit the mix reaches now and then, so that refusals by it are part of the run.
      start('simple', { LOGIN_RATE_LIMIT_MAX: '200' }),
      // Every flow registers a client from one address; the limiters count but do not refuse.
      start('oauth', { OAUTH_REGISTRATIONS_PER_HOUR: '100000', LOGIN_RATE_LIMIT_MAX: '100000' }),
    ])
    const [simple, oauth] = started.map((outcome) => {
      if (outcome.status === 'rejected') throw outcome.reason
      return outcome.value
    }) as [Cluster, Cluster]
    await soak(simple, oauth)
  } finally {
    await Promise.all(clusters.map((cluster) => cluster.stop()))
    await database.drop()
    await redis?.stop()
  }
}

async function soak(cluster: Cluster, oauthCluster: Cluster) {
  const urls = cluster.instances.map((instance) => instance.url)
  const pick = (n: number) => urls[n % urls.length]!
  const oauthUrls = oauthCluster.instances.map((instance) => instance.url)
  const pickOauth = (n: number) => oauthUrls[n % oauthUrls.length]!
  /** Each step of the flow on the next oauth instance, starting from `n`'s. */
  const hopping = (n: number) => (step: FlowStep) => pickOauth(n + FLOW_STEPS.indexOf(step))
  const resource = `${oauthCluster.url}/mcp`
  const served: Record<Kind, number> = { login: 0, 'tool call': 0, refresh: 0, 'oauth flow': 0, 'oauth refresh': 0, 'oauth tool call': 0 }
  let rateLimited = 0
  let errors = 0
  const errorSamples: string[] = []
  const fail = (what: string) => {
    errors++
    if (errorSamples.length < 10) errorSamples.push(what)
  }

  // One user per worker, so that a worker's refresh tokens are never raced by another's. The
  // user signs up on the simple cluster and signs in on the oauth one: one database, one identity.
  const users = await Promise.all(
    Array.from({ length: workerCount }, async (_, i) => {
      const email = `soak-${i}@example.com`
      const signUp = await json(await fetch(`${pick(i)}/auth/v1/signup`, { method: 'POST', headers: { 'content-type': 'application/json', apikey: ANON_KEY }, body: JSON.stringify({ email, password: PASSWORD }) }))
      if (!signUp.access_token) throw new Error(`sign-up of ${email} failed: ${JSON.stringify(signUp)}`)
      const flow = await completeFlow(hopping(i), { email, password: PASSWORD }, { resource })
      return { email, accessToken: signUp.access_token as string, refreshToken: signUp.refresh_token as string, oauth: { clientId: flow.clientId, ...flow.tokens } }
    }),
  )
  const instances = [...cluster.instances.map((instance) => ({ instance, mode: 'simple' as Mode })), ...oauthCluster.instances.map((instance) => ({ instance, mode: 'oauth' as Mode }))]
  const start = instances.map(({ instance }) => processStats(instance.child.pid!))
  process.stdout.write(
    `atoms-mcp soak: ${instanceCount} simple-mode instances behind ${cluster.url} and ${instanceCount} oauth-mode instances behind ${oauthCluster.url}, ${workerCount} workers, ${durationMs / 1000} s\n`,
  )

  /** One of the three tool calls of the mix, with `token` on `base`. */
  const toolCall = (base: string, token: string, worker: number, round: number) =>
    round % 3 === 0
      ? callTool(base, token, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: `Soak ${worker}-${round}`, slug: `soak-${worker}-${round}` } }, round)
      : round % 3 === 1
        ? callTool(base, token, 'entity_tool', { operation: 'list', entity_type: 'organization', limit: 5 }, round)
        : callTool(base, token, 'whoami', {}, round)

  /** Of twenty rounds: a login and a whole OAuth flow, a refresh of each kind, tool calls of each kind. */
  const kindOf = (round: number): Kind =>
    round % 20 === 0 ? 'login' : round % 20 === 10 ? 'oauth flow' : round % 20 === 5 ? 'refresh' : round % 20 === 15 ? 'oauth refresh' : round % 2 === 0 ? 'tool call' : 'oauth tool call'

  const load = keepBusy(workerCount, async (worker, round) => {
    const user = users[worker]!
    const kind = kindOf(round)
    const base = kind.startsWith('oauth') ? pickOauth(worker + round) : pick(worker + round)
    try {
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
      } else if (kind === 'oauth flow') {
        const flow = await completeFlow(hopping(worker + round), { email: user.email, password: PASSWORD }, { resource })
        served['oauth flow'] += 1
        user.oauth = { clientId: flow.clientId, ...flow.tokens }
      } else if (kind === 'oauth refresh') {
        user.oauth = { clientId: user.oauth.clientId, ...(await refreshTokens(base, user.oauth.clientId, user.oauth.refresh_token)) }
        served['oauth refresh'] += 1
      } else {
        const token = kind === 'oauth tool call' ? user.oauth.access_token : user.accessToken
        const outcome = await toolCall(base, token, worker, round)
        if (outcome.status === 200 && !outcome.isError) served[kind] += 1
        else fail(`${kind} on ${base}: ${outcome.status} ${outcome.text.slice(0, 200)}`)
      }
    } catch (error) {
      // The sign-in page's limit refuses with 429 like the login's; anything else is an error.
      if (error instanceof FlowStepError && error.status === 429) rateLimited++
      else fail(`${kind} on ${base}: ${error instanceof Error ? error.message.slice(0, 300) : String(error)}`)
    }
  })
  const progress: Figures['progress'] = []
  const began = Date.now()
  const sampler = setInterval(() => {
    const stats = instances.map(({ instance }) => processStats(instance.child.pid!))
    const sample = {
      seconds: Math.round((Date.now() - began) / 1000),
      served: Object.values(served).reduce((a, b) => a + b, 0),
      errors,
      rssMb: stats.map((stat) => Math.round(stat.rssKb / 1024)),
      openFds: stats.map((stat) => stat.openFds),
    }
    progress.push(sample)
    process.stdout.write(`  ${sample.seconds} s: ${sample.served} served, ${sample.errors} errors, RSS ${sample.rssMb.join('/')} MiB, fds ${sample.openFds.join('/')}\n`)
  }, PROGRESS_SECONDS * 1000)
  await new Promise((resolve) => setTimeout(resolve, durationMs))
  clearInterval(sampler)
  await load.stop()
  const end = instances.map(({ instance }) => processStats(instance.child.pid!))

  const figures: Figures = {
    instances: instanceCount,
    durationSeconds: durationMs / 1000,
    served,
    rateLimited,
    errors,
    errorSamples,
    processes: instances.map(({ instance, mode }, i) => ({ url: instance.url, mode, start: start[i]!, end: end[i]! })),
    progress,
  }
  report(figures)
  if (args.json) writeFileSync(args.json, JSON.stringify(figures, null, 2))
  process.exitCode = errors === 0 ? 0 : 1
}

function report(figures: Figures) {
  const total = Object.values(figures.served).reduce((a, b) => a + b, 0)
  const lines = [
    '',
    `requests served   ${total} (${Object.entries(figures.served).map(([kind, n]) => `${kind} ${n}`).join(', ')}), ${(total / figures.durationSeconds).toFixed(1)} req/s`,
    `rate limited      ${figures.rateLimited} logins and sign-ins (429, expected)`,
    `errors            ${figures.errors}${figures.errorSamples.length ? `\n  ${figures.errorSamples.join('\n  ')}` : ''}`,
    '',
    'instance                   mode    RSS start   RSS end   fds start   fds end',
    ...figures.processes.map(
      (p) =>
        `${p.url.padEnd(25)}  ${p.mode.padEnd(6)}  ${`${Math.round(p.start.rssKb / 1024)} MiB`.padStart(9)}  ${`${Math.round(p.end.rssKb / 1024)} MiB`.padStart(8)}  ${String(p.start.openFds).padStart(10)}  ${String(p.end.openFds).padStart(8)}`,
    ),
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}

await main()
