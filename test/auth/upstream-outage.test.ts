import t from 'tap'
import { createServer, type Socket } from 'node:net'
import { loadConfig } from '../../src/config.ts'
import { migrate } from '../../src/db/migrate.ts'
import { startServer, type RunningServer } from '../../src/server.ts'
import { freePort } from '../../scripts/lib/ports.ts'
import { backends, type Backend } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { probe, probeRoutes, signedInUser } from '../helpers/auth.ts'

/** A Supabase stand-in (an atoms-mcp with its embedded auth) that can be stopped and started again on its port. */
async function stoppableSupabase(backend: Backend) {
  const store = await backend.create()
  await migrate(store.db)
  const port = await freePort()
  const config = loadConfig({ HOST: '127.0.0.1', PORT: String(port), DATA_DIR: store.dataDir, LOG_LEVEL: 'silent', AUTH_MODE: 'bearer' }, {})
  let running: RunningServer | undefined = await startServer(config, { db: store.db })
  return {
    url: config.baseUrl,
    async stop() {
      await running?.close()
      running = undefined
    },
    async start() {
      running ??= await startServer(config, { db: store.db })
    },
    async dispose() {
      await running?.close()
      await store.dispose()
    },
  }
}

/** A port that accepts connections and never answers: Supabase hanging. */
async function silentServer() {
  const sockets = new Set<Socket>()
  let accepted = 0
  const server = createServer((socket) => {
    accepted++
    sockets.add(socket)
    // Reads (and drops) what arrives, so that the client closing the connection is seen.
    socket.resume()
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    /** Connections accepted so far, and those still open. */
    accepted: () => accepted,
    open: () => sockets.size,
    close: () => {
      for (const socket of sockets) socket.destroy()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

for (const backend of backends()) {
  t.test(`an unreachable Supabase gives 503 with Retry-After, then recovery, on ${backend.name}`, async (t) => {
    const supabase = await stoppableSupabase(backend)
    t.teardown(() => supabase.dispose())
    const upstream = { SUPABASE_URL: supabase.url, SUPABASE_ANON_KEY: 'anon-key-of-the-project', UPSTREAM_TIMEOUT_MS: '1000' }
    const bearer = await startTestServer(backend, { ...upstream, AUTH_MODE: 'bearer', TOKEN_CACHE_TTL: '0' }, { extraRoutes: probeRoutes })
    t.teardown(() => bearer.dispose())
    const jwt = await startTestServer(backend, { ...upstream, AUTH_MODE: 'jwt' }, { extraRoutes: probeRoutes })
    t.teardown(() => jwt.dispose())
    const simple = await startTestServer(backend, { ...upstream, AUTH_MODE: 'simple', TOKEN_VALIDATION: 'remote' })
    t.teardown(() => simple.dispose())

    const frank = await signedInUser(supabase.url, 'any', 'frank@example.com')
    const token = frank.session.access_token
    t.equal((await probe(bearer.config.baseUrl, token)).status, 200, 'bearer works while Supabase is up')

    await supabase.stop()
    for (const [name, base] of [['bearer', bearer.config.baseUrl], ['jwt (JWKS never fetched yet)', jwt.config.baseUrl]]) {
      const started = Date.now()
      const answer = await probe(base!, token)
      t.comment(`${name}: answered in ${Date.now() - started} ms`)
      t.equal(answer.status, 503, `${name}: 503`)
      t.equal(answer.retryAfter, '5', `${name}: Retry-After`)
      t.equal(answer.challenge, null, `${name}: no challenge, the token was not judged`)
      t.equal(answer.body.error, 'temporarily_unavailable')
      t.match(answer.body.error_description, /Supabase Auth cannot check credentials right now/)
    }
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${simple.config.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
    const login = await post('/auth/login', { email: 'frank@example.com', password: frank.password })
    t.equal(login.status, 503, 'simple: login answers 503, not 401')
    t.ok(login.headers.get('retry-after'))
    const refresh = await post('/auth/refresh', { refresh_token: frank.session.refresh_token })
    t.equal(refresh.status, 503, 'simple: refresh answers 503 at once (supabase-js does not retry it for 30 s)')
    const status = await fetch(`${simple.config.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${token}` } })
    t.equal(status.status, 503, 'simple: status answers 503')

    await supabase.start()
    t.equal((await probe(bearer.config.baseUrl, token)).status, 200, 'bearer recovers when Supabase is back')
    t.equal((await probe(jwt.config.baseUrl, token)).status, 200, 'jwt recovers when the JWKS is reachable')
    const again = await post('/auth/refresh', { refresh_token: frank.session.refresh_token })
    t.equal(again.status, 200, 'the refresh token was not spent by the failed attempt')
  })

  t.test(`a Supabase that never answers gives 503 after UPSTREAM_TIMEOUT_MS on ${backend.name}`, async (t) => {
    const supabase = await stoppableSupabase(backend)
    t.teardown(() => supabase.dispose())
    const silent = await silentServer()
    t.teardown(() => silent.close())
    const grace = await signedInUser(supabase.url, 'any', 'grace@example.com')
    const bearer = await startTestServer(
      backend,
      { AUTH_MODE: 'bearer', SUPABASE_URL: silent.url, SUPABASE_ANON_KEY: 'k', JWT_ISSUER: `${supabase.url}/auth/v1`, UPSTREAM_TIMEOUT_MS: '300' },
      { extraRoutes: probeRoutes },
    )
    t.teardown(() => bearer.dispose())
    const answer = await probe(bearer.config.baseUrl, grace.session.access_token)
    t.equal(answer.status, 503)
    t.equal(answer.retryAfter, '5')
    t.match(answer.body.error_description, /did not answer within 300 ms/)

    // No pile-up: callers presenting one token share one upstream check, each bounded by the timeout.
    const before = silent.accepted()
    const crowd = await Promise.all(Array.from({ length: 20 }, () => probe(bearer.config.baseUrl, grace.session.access_token)))
    t.ok(crowd.every((a) => a.status === 503 && a.retryAfter === '5'), '20 concurrent callers each get 503 with Retry-After')
    t.ok(silent.accepted() - before <= 1, `they cost at most one upstream connection (${silent.accepted() - before})`)
    const deadline = Date.now() + 10_000
    while (silent.open() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    t.equal(silent.open(), 0, 'no connection to the hanging upstream is left open')
  })
}
