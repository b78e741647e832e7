import t from 'tap'
import { randomUUID } from 'node:crypto'
import { freePort } from '../../scripts/lib/ports.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { CHALLENGE_INVALID_TOKEN, CHALLENGE_NO_TOKEN, logCollector, signedInUser } from '../helpers/auth.ts'
import { ownRedisDb } from '../helpers/redis.ts'

interface Answer {
  status: number
  headers: Headers
  body: any
}

function client(base: string) {
  const call = async (method: string, path: string, init: { json?: unknown; form?: Record<string, string>; token?: string; from?: string } = {}): Promise<Answer> => {
    const headers: Record<string, string> = {}
    let body: string | undefined
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(init.json)
    } else if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(init.form).toString()
    }
    if (init.token) headers.authorization = `Bearer ${init.token}`
    if (init.from) headers['x-forwarded-for'] = init.from
    const response = await fetch(`${base}${path}`, { method, headers, body })
    const text = await response.text()
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined }
  }
  return {
    login: (credentials: unknown, from?: string) => call('POST', '/auth/login', { json: credentials, ...(from ? { from } : {}) }),
    loginForm: (form: Record<string, string>) => call('POST', '/auth/login', { form }),
    status: (token?: string) => call('GET', '/auth/status', token ? { token } : {}),
    refresh: (refreshToken: string) => call('POST', '/auth/refresh', { json: { refresh_token: refreshToken } }),
    logout: (token?: string) => call('POST', '/auth/logout', token ? { token } : {}),
  }
}

/** A fresh client address for each scenario, so rate-limit counters never carry over. */
const address = () => `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`

for (const backend of backends()) {
  t.test(`simple mode on ${backend.name}`, async (t) => {
    const log = logCollector()
    const server = await startTestServer(backend, { AUTH_MODE: 'simple', LOG_LEVEL: 'trace', TRUST_PROXY: '1', LOGIN_RATE_LIMIT_MAX: '3' }, { logStream: log.stream })
    t.teardown(() => server.dispose())
    const base = server.config.baseUrl
    const api = client(base)
    const henry = await signedInUser(base, server.anonKey, 'henry@example.com', 'henry-secret-password-1')
    const secrets: string[] = [henry.password]

    t.test('login, status, refresh, logout', async (t) => {
      const login = await api.login({ email: 'henry@example.com', password: henry.password }, address())
      t.equal(login.status, 200)
      t.match(login.body, { token_type: 'bearer', message: 'Login successful', user: { id: henry.userId, email: 'henry@example.com' } })
      t.type(login.body.access_token, 'string')
      t.type(login.body.refresh_token, 'string')
      t.ok(login.body.expires_in > 0 && login.body.expires_at > Date.now() / 1000)
      const { data } = await henry.supabase.auth.getUser(login.body.access_token)
      t.equal(data.user?.id, henry.userId, 'the token is a Supabase token supabase-js accepts')
      secrets.push(login.body.access_token, login.body.refresh_token)

      const status = await api.status(login.body.access_token)
      t.equal(status.status, 200)
      t.same(status.body, { authenticated: true, user: { id: henry.userId, email: 'henry@example.com' }, expires_at: login.body.expires_at, mode: 'simple' })

      const refreshed = await api.refresh(login.body.refresh_token)
      t.equal(refreshed.status, 200)
      t.equal(refreshed.body.user.id, henry.userId)
      t.not(refreshed.body.refresh_token, login.body.refresh_token, 'the refresh token rotates')
      secrets.push(refreshed.body.access_token, refreshed.body.refresh_token)
      t.equal((await api.status(refreshed.body.access_token)).status, 200)

      const logout = await api.logout(refreshed.body.access_token)
      t.equal(logout.status, 200)
      t.equal(logout.body.message, 'Logout successful')
      const after = await api.status(refreshed.body.access_token)
      t.equal(after.status, 401, 'this instance refuses the token it logged out')
      t.equal(after.body.authenticated, false)
      t.type(after.body.error, 'string')
      t.equal((await api.refresh(refreshed.body.refresh_token)).status, 401, 'the session is over in Supabase too')
      t.equal((await henry.supabase.auth.getUser(refreshed.body.access_token)).error?.name, 'AuthSessionMissingError')
    })

    t.test('a form-encoded login works too', async (t) => {
      const login = await api.loginForm({ email: 'henry@example.com', password: henry.password })
      t.equal(login.status, 200)
      t.equal(login.body.user.id, henry.userId)
      secrets.push(login.body.access_token, login.body.refresh_token)
    })

    t.test('refusals', async (t) => {
      const unknownEmail = await api.login({ email: 'nobody@example.com', password: henry.password }, address())
      const wrongPassword = await api.login({ email: 'henry@example.com', password: 'not-the-password' }, address())
      t.equal(unknownEmail.status, 401)
      t.same(unknownEmail.body, { error: 'invalid_credentials', message: 'Invalid login credentials' })
      t.same(wrongPassword.body, unknownEmail.body, 'an unknown email and a wrong password get the same answer')
      t.equal(wrongPassword.status, unknownEmail.status)

      const missing = await api.login({ email: 'henry@example.com' }, address())
      t.equal(missing.status, 400)
      t.equal(missing.body.error, 'invalid_request')
      const notJson = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' })
      t.equal(notJson.status, 400)

      const noToken = await api.status()
      t.equal(noToken.status, 401)
      t.same(noToken.body.authenticated, false)
      t.equal(noToken.headers.get('www-authenticate'), CHALLENGE_NO_TOKEN)
      const badToken = await api.status('garbage')
      t.equal(badToken.status, 401)
      t.match(badToken.headers.get('www-authenticate'), CHALLENGE_INVALID_TOKEN)
      t.equal((await api.logout()).status, 401)
      t.equal((await api.refresh('not-a-refresh-token')).body.error, 'invalid_grant')
    })

    t.test('brute force is cut off with 429 and Retry-After, per address and per email', async (t) => {
      const from = address()
      const codes: number[] = []
      for (let i = 0; i < 5; i++) codes.push((await api.login({ email: `victim${i}@example.com`, password: 'guess' }, from)).status)
      t.same(codes, [401, 401, 401, 429, 429], 'one address, many emails')
      const limited = await api.login({ email: 'henry@example.com', password: henry.password }, from)
      t.equal(limited.status, 429, 'even the right password waits')
      t.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After is given')
      t.equal(limited.body.error, 'too_many_requests')

      const perEmail: number[] = []
      for (let i = 0; i < 5; i++) perEmail.push((await api.login({ email: 'Target@example.com', password: `guess-${i}` }, address())).status)
      t.same(perEmail, [401, 401, 401, 429, 429], 'one email, many addresses')
    })

    t.test('credentials never reach the log', async (t) => {
      const text = log.text()
      t.match(text, /"url":"\/auth\/login"/, 'the log did record the logins')
      for (const secret of secrets) t.notOk(text.includes(secret), `the log does not hold a ${secret.length}-character credential`)
      t.notOk(text.includes('guess-1'), 'nor a guessed password')
    })
  })
}

const redisUrl = ownRedisDb(process.env.TEST_REDIS_URL, 1)
t.test('login limits shared through Redis', { skip: redisUrl ? false : process.env.TEST_REDIS_SKIP_REASON ?? 'no TEST_REDIS_URL' }, async (t) => {
  const backend = backends()[0]!
  const env = { AUTH_MODE: 'simple', TRUST_PROXY: '1', LOGIN_RATE_LIMIT_MAX: '3', REDIS_URL: redisUrl! }
  const one = await startTestServer(backend, env)
  t.teardown(() => one.dispose())
  const two = await startTestServer(backend, env)
  t.teardown(() => two.dispose())
  const email = `shared-${randomUUID()}@example.com`
  const codes = [
    (await client(one.config.baseUrl).login({ email, password: 'a' }, address())).status,
    (await client(two.config.baseUrl).login({ email, password: 'b' }, address())).status,
    (await client(one.config.baseUrl).login({ email, password: 'c' }, address())).status,
    (await client(two.config.baseUrl).login({ email, password: 'd' }, address())).status,
  ]
  t.same(codes, [401, 401, 401, 429], 'the fourth attempt, on either instance, is over the shared limit')
})

t.test('with Redis down, logins fail open and a warning is logged', async (t) => {
  const backend = backends()[0]!
  const log = logCollector()
  const closedPort = await freePort()
  const server = await startTestServer(
    backend,
    { AUTH_MODE: 'simple', TRUST_PROXY: '1', LOGIN_RATE_LIMIT_MAX: '2', REDIS_URL: `redis://127.0.0.1:${closedPort}`, LOG_LEVEL: 'warn' },
    { logStream: log.stream },
  )
  t.teardown(() => server.dispose())
  const api = client(server.config.baseUrl)
  const ivy = await signedInUser(server.config.baseUrl, server.anonKey, 'ivy@example.com')
  const from = address()
  const codes: number[] = []
  for (let i = 0; i < 4; i++) codes.push((await api.login({ email: 'ivy@example.com', password: `guess-${i}` }, from)).status)
  t.same(codes, [401, 401, 401, 401], 'no 429 and no 500 while the limit store is down')
  t.equal((await api.login({ email: 'ivy@example.com', password: ivy.password }, from)).status, 200, 'sign-in still works')
  t.match(log.text(), /rate limit/, 'the outage is logged')
})
