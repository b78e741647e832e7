import { Writable } from 'node:stream'
import t from 'tap'
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { createServer, request as httpRequest } from 'node:http'
import { fileURLToPath } from 'node:url'
import { createClient } from '@supabase/supabase-js'
import { freePort } from '../scripts/lib/ports.ts'
import { openDatabase } from '../src/db/open.ts'
import { backends, tempDir, seededDataDir } from './helpers/backends.ts'
import { memoryStorage, signInThroughBrowser } from './helpers/browser.ts'
import { startTestServer } from './helpers/server.ts'
import { SERVER_CLIENT } from './helpers/supabase.ts'
import { isolatedEnv } from './helpers/child-env.ts'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))

for (const backend of backends()) {
  t.test(`/health and /ready on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend)
    t.teardown(() => server.dispose())
    const url = server.config.baseUrl

    const health = await fetch(`${url}/health`)
    t.equal(health.status, 200)
    t.same(await health.json(), { status: 'ok' })
    const ready = await fetch(`${url}/ready`)
    t.equal(ready.status, 200)
    t.same(await ready.json(), { status: 'ready', database: backend.name }, '/ready names the database kind')
    const missing = await fetch(`${url}/no-such-page`)
    t.equal(missing.status, 404, 'an unknown path is a 404')
    t.match(missing.headers.get('content-type'), /^application\/json/)

    await server.db.close()
    const down = await fetch(`${url}/ready`)
    t.equal(down.status, 503, '/ready is 503 once the database is gone')
    t.equal(down.headers.get('retry-after'), '5')
    t.match(await down.json(), { status: 'unavailable', database: backend.name })
    t.equal((await fetch(`${url}/health`)).status, 200, '/health does not depend on the database')

    const login = await fetch(`${url}/auth/v1/token?grant_type=password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-supabase-api-version': '2024-01-01' },
      body: JSON.stringify({ email: 'a@example.com', password: 'correct horse' }),
    })
    t.equal(login.status, 503, 'the auth answers 503 (retryable), not 500, without its database')
    t.ok(login.headers.get('x-sb-error-code'), 'in the GoTrue error format')
  })
}

t.test('CORS follows CORS_ORIGINS and exposes the API version header', async (t) => {
  const server = await startTestServer(backends()[0]!, { CORS_ORIGINS: 'https://app.example' })
  t.teardown(() => server.dispose())
  const preflight = await fetch(`${server.config.baseUrl}/auth/v1/token?grant_type=password`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'apikey,x-supabase-api-version,content-type' },
  })
  t.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example')
  t.match(preflight.headers.get('access-control-allow-headers')?.toLowerCase(), /apikey/)
  t.match(preflight.headers.get('access-control-allow-headers')?.toLowerCase(), /x-supabase-api-version/)
  const simple = await fetch(`${server.config.baseUrl}/auth/v1/settings`, { headers: { origin: 'https://app.example' } })
  t.match(simple.headers.get('access-control-expose-headers')?.toLowerCase(), /x-supabase-api-version/)
  const other = await fetch(`${server.config.baseUrl}/auth/v1/settings`, { headers: { origin: 'https://evil.example' } })
  t.equal(other.headers.get('access-control-allow-origin'), null, 'another origin is not allowed')
})

t.test('logs never carry passwords, tokens, codes or authorization headers', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) })
  const server = await startTestServer(backends()[0]!, { LOG_LEVEL: 'trace', AUTH_EXTERNAL_PROVIDERS: 'github' }, { logStream: stream })
  t.teardown(() => server.dispose())
  const supabase = createClient(server.config.baseUrl, server.anonKey, { auth: SERVER_CLIENT })
  const password = 'Very-Secret-Password-1'
  const signUp = await supabase.auth.signUp({ email: 'logs@example.com', password })
  const signIn = await supabase.auth.signInWithPassword({ email: 'logs@example.com', password })
  const refreshed = await supabase.auth.refreshSession({ refresh_token: signIn.data.session!.refresh_token })
  await supabase.auth.getUser(refreshed.data.session!.access_token)
  await supabase.auth.signInWithPassword({ email: 'logs@example.com', password: 'Wrong-Password-2' })

  const storage = memoryStorage()
  const pkce = createClient(server.config.baseUrl, server.anonKey, { auth: { ...SERVER_CLIENT, persistSession: true, flowType: 'pkce', storage } })
  const { data } = await pkce.auth.signInWithOAuth({ provider: 'github', options: { redirectTo: 'http://127.0.0.1:3999/cb', skipBrowserRedirect: true } })
  const steps = await signInThroughBrowser(data.url!, { email: 'logs-oauth@example.com' })
  const providerCode = new URL(steps.callback).searchParams.get('code')!
  const authCode = new URL(steps.final).searchParams.get('code')!
  const verifier = [...storage.items.entries()].find(([key]) => key.endsWith('-code-verifier'))![1]
  const exchanged = await pkce.auth.exchangeCodeForSession(authCode)
  await pkce.auth.signOut()
  // Something logging a body or headers by hand must be blanked too.
  server.app.log.info({ password, body: { refresh_token: 'r-direct', nested: { code_verifier: 'v-direct' } }, req: { headers: { authorization: 'Bearer h-direct' } } }, 'probe')

  const log = lines.join('')
  t.match(log, /"url":"\/auth\/v1\/token"/, 'requests are logged')
  t.match(log, /"reqId":/, 'with request ids')
  t.match(log, /probe/)
  const secrets: Record<string, string> = {
    password,
    'the wrong password': 'Wrong-Password-2',
    'the first access token': signUp.data.session!.access_token,
    'the sign-in refresh token': signIn.data.session!.refresh_token,
    'the rotated refresh token': refreshed.data.session!.refresh_token,
    'the rotated access token': refreshed.data.session!.access_token,
    'the provider code': providerCode,
    'the auth code': authCode,
    'the PKCE verifier': verifier.split('/')[0]!,
    'the OAuth access token': exchanged.data.session!.access_token,
    'a refresh token logged by hand': 'r-direct',
    'a verifier logged by hand': 'v-direct',
    'an authorization header logged by hand': 'h-direct',
  }
  for (const [name, secret] of Object.entries(secrets)) t.notOk(log.includes(secret), `${name} is not in the logs`)
  t.notMatch(log, /[Bb]earer /, 'no authorization header')
})

/** Reads a child's output line by line and waits for a line that matches. */
function lineWatcher(stream: NodeJS.ReadableStream) {
  let text = ''
  const waiting: { pattern: RegExp; resolve: (line: string) => void }[] = []
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    text += chunk
    for (const wait of [...waiting]) {
      const line = text.split('\n').find((l) => wait.pattern.test(l))
      if (line !== undefined) {
        waiting.splice(waiting.indexOf(wait), 1)
        wait.resolve(line)
      }
    }
  })
  return {
    get text() {
      return text
    },
    waitFor(pattern: RegExp) {
      const line = text.split('\n').find((l) => pattern.test(l))
      return line !== undefined ? Promise.resolve(line) : new Promise<string>((resolve) => waiting.push({ pattern, resolve }))
    },
  }
}

t.test('npm start: banner first, /health up, SIGTERM finishes the request in flight and exits 0', async (t) => {
  const dataDir = await seededDataDir()
  const cwd = tempDir()
  t.teardown(() => {
    rmSync(dataDir, { recursive: true, force: true })
    rmSync(cwd, { recursive: true, force: true })
  })
  const port = await freePort()
  const child = spawn(process.execPath, [MAIN], {
    cwd,
    env: isolatedEnv({ HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const stdout = lineWatcher(child.stdout!)
  const stderr = lineWatcher(child.stderr!)
  const base = `http://127.0.0.1:${port}`

  await stderr.waitFor(/add a user/)
  const health = await fetch(`${base}/health`)
  t.equal(health.status, 200, '/health answers once the banner is out')
  const banner = stderr.text.split('\n')
  t.match(banner[0], `listening on ${base}`, 'the first line names the URL')
  t.match(banner[1], /auth mode\s*: oauth/, 'then the mode')
  t.match(banner[2], /embedded/, 'then the embedded auth')
  t.match(banner[2], `${base}/auth/v1`)
  t.match(banner[3], /embedded PGlite/, 'then the embedded database')
  t.match(banner[3], dataDir)
  t.notMatch(stdout.text, /Server listening/, 'no JSON line comes before the banner')

  // Expect: 100-continue makes the server confirm it has the request before the body is sent.
  const body = JSON.stringify({ email: 'inflight@example.com', password: 'correct horse' })
  const request = httpRequest({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/auth/v1/signup',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue', connection: 'close' },
  })
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request.on('response', (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode!, body: text }))
    })
    request.on('error', reject)
  })
  await new Promise<void>((resolve) => request.on('continue', resolve))
  child.kill('SIGTERM')
  await stdout.waitFor(/shutting down/)
  request.end(body)

  const answer = await response
  t.equal(answer.status, 200, 'the request in flight completes')
  t.ok(JSON.parse(answer.body).access_token, 'with its full answer')
  t.equal(await exited, 0, 'the process exits 0')
  await t.rejects(fetch(`${base}/health`), 'and stops listening')

  const db = await openDatabase({ dataDir, databaseUrl: undefined })
  t.teardown(() => db.close())
  const users = await db.query("select email from embedded_auth.users where email = 'inflight@example.com'")
  t.equal(users.rows.length, 1, 'the database was closed cleanly with the new user in it')
})

t.test('start-up failures are one line and exit 1', async (t) => {
  const cwd = tempDir()
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }))
  const run = (env: Record<string, string>) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [MAIN], { cwd, env: isolatedEnv({ HOST: '127.0.0.1', DATA_DIR: cwd, ...env }), stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      child.stderr!.on('data', (chunk) => (stderr += chunk))
      child.on('close', (code) => resolve({ code, stderr }))
    })

  const closedPort = await freePort()
  const noDatabase = await run({ PORT: '0', DATABASE_URL: `postgres://atoms:hunter2-secret@127.0.0.1:${closedPort}/atoms` })
  t.equal(noDatabase.code, 1)
  t.match(noDatabase.stderr, `cannot reach the PostgreSQL server of DATABASE_URL (127.0.0.1:${closedPort}/atoms)`)
  t.notMatch(noDatabase.stderr, /hunter2-secret/, 'the password is not repeated')
  t.equal(noDatabase.stderr.trim().split('\n').length, 1, 'one line')

  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => blocker.close())
  const busyPort = (blocker.address() as { port: number }).port
  const portTaken = await run({ PORT: String(busyPort) })
  t.equal(portTaken.code, 1)
  t.match(portTaken.stderr, `port ${busyPort} is already in use (set PORT)`)
  t.notMatch(portTaken.stderr, /^\s+at /m, 'no stack trace')
})
