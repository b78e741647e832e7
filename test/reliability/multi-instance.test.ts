import t from 'tap'
import pg from 'pg'
import { startCluster } from '../../scripts/lib/cluster.ts'
import { callTool } from '../../scripts/lib/mcp-call.ts'
import { createDatabase } from '../../scripts/lib/services.ts'
import { EMBEDDED_ANON_KEY } from '../../src/config.ts'
import { supabaseClient } from '../helpers/auth.ts'
import { ownRedisDb } from '../helpers/redis.ts'

const databaseServer = process.env.TEST_DATABASE_URL
const redisUrl = ownRedisDb(process.env.TEST_REDIS_URL, 2)

const post = (base: string, path: string, body: unknown) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

t.test('two instances on one PostgreSQL and one Redis serve as one', { skip: !databaseServer ? 'no TEST_DATABASE_URL (run through npm test)' : !redisUrl ? process.env.TEST_REDIS_SKIP_REASON ?? 'no TEST_REDIS_URL' : false }, async (t) => {
  const database = await createDatabase(databaseServer!)
  t.teardown(() => database.drop())
  const cluster = await startCluster({
    count: 2,
    databaseUrl: database.url,
    redisUrl,
    env: { AUTH_MODE: 'simple', LOGIN_RATE_LIMIT_MAX: '5', TOKEN_CACHE_TTL: '0' },
  })
  t.teardown(() => cluster.stop())
  const [a, b] = cluster.instances.map((instance) => instance.url) as [string, string]

  t.test('they started together and agree on one signing key, kept in the database', async (t) => {
    const kids = await Promise.all([a, b].map(async (base) => (await (await fetch(`${base}/auth/v1/.well-known/jwks.json`)).json()).keys.map((k: { kid: string }) => k.kid)))
    t.same(kids[0], kids[1], 'the same JWKS on both')
    const admin = new pg.Client({ connectionString: database.url })
    await admin.connect()
    t.teardown(() => admin.end())
    const { rows } = await admin.query('select kid from embedded_auth.signing_keys')
    t.same(rows.map((row) => row.kid), kids[0], 'one key row, the one both publish')
  })

  t.test('sign up on A, sign in on B, refresh on A, MCP whoami on B', async (t) => {
    const onA = supabaseClient(a, EMBEDDED_ANON_KEY)
    const onB = supabaseClient(b, EMBEDDED_ANON_KEY)
    const signUp = await onA.auth.signUp({ email: 'ada@example.com', password: 'correct horse battery' })
    t.equal(signUp.error, null, 'signed up on A')
    const signIn = await onB.auth.signInWithPassword({ email: 'ada@example.com', password: 'correct horse battery' })
    t.equal(signIn.error, null, 'signed in on B')
    const refreshed = await onA.auth.refreshSession({ refresh_token: signIn.data.session!.refresh_token })
    t.equal(refreshed.error, null, "B's refresh token refreshes on A")
    const me = await callTool(b, refreshed.data.session!.access_token, 'whoami')
    t.equal(me.status, 200)
    t.equal(me.value?.id, signUp.data.user!.id, "A's token is ada on B")

    const login = await post(b, '/auth/login', { email: 'ada@example.com', password: 'correct horse battery' })
    t.equal(login.status, 200, 'simple-mode login on B')
    const session = (await login.json()) as { refresh_token: string; access_token: string }
    const again = await post(a, '/auth/refresh', { refresh_token: session.refresh_token })
    t.equal(again.status, 200, "simple-mode refresh of B's session on A")

    const created = await callTool(a, session.access_token, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'Shared', slug: 'shared-org' } })
    t.equal(created.isError, false, 'an organization created through A')
    const read = await callTool(b, session.access_token, 'entity_tool', { operation: 'read', entity_type: 'organization', id: created.value?.id })
    t.equal(read.value?.name, 'Shared', 'is read through B')
  })

  t.test('the load balancer can send each request anywhere', async (t) => {
    const onAny = supabaseClient(cluster.url, EMBEDDED_ANON_KEY)
    const signUp = await onAny.auth.signUp({ email: 'lb@example.com', password: 'correct horse battery' })
    t.equal(signUp.error, null)
    let refreshToken = signUp.data.session!.refresh_token
    for (let i = 0; i < 4; i++) {
      const { data, error } = await onAny.auth.refreshSession({ refresh_token: refreshToken })
      t.equal(error, null, `refresh ${i + 1} through the balancer`)
      refreshToken = data.session!.refresh_token
      const me = await callTool(cluster.url, data.session!.access_token, 'whoami')
      t.equal(me.value?.id, signUp.data.user!.id, `whoami ${i + 1} through the balancer`)
    }
  })

  t.test('legacy /sse sessions live in the instance that opened them (the balancer needs affinity for them)', async (t) => {
    const { data } = await supabaseClient(a, EMBEDDED_ANON_KEY).auth.signInWithPassword({ email: 'ada@example.com', password: 'correct horse battery' })
    const auth = { authorization: `Bearer ${data.session!.access_token}` }
    const controller = new AbortController()
    t.teardown(() => controller.abort())
    const stream = await fetch(`${a}/sse`, { headers: { ...auth, accept: 'text/event-stream' }, signal: controller.signal })
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader()
    let seen = ''
    while (!/data: (\S+)/.test(seen)) seen += (await reader.read()).value ?? ''
    const endpoint = /data: (\S+)/.exec(seen)![1]!
    const ping = (base: string) =>
      fetch(`${base}${endpoint}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) })
    t.equal((await ping(a)).status, 202, 'the instance holding the stream takes its messages')
    t.equal((await ping(b)).status, 404, 'another instance does not know the session')
  })

  t.test('login rate limits are counted once for the whole service, in Redis', async (t) => {
    const attempt = (base: string) => post(base, '/auth/login', { email: 'mallory@example.com', password: 'wrong guess' })
    const statuses: number[] = []
    for (const base of [a, b, a, b]) statuses.push((await attempt(base)).status)
    // The limit is 5 a minute per address, and ada signed in three times from this address
    // before: at the password grant of B, at /auth/login on B and at the password grant of A.
    t.same(statuses, [401, 401, 429, 429], 'the third failed attempt is refused: the instances and the endpoints share one count')
    t.equal((await attempt(a)).status, 429, 'and A refuses as well')
  })
})
