import t from 'tap'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { spawnServer } from '../../scripts/lib/spawn-server.ts'
import { EMBEDDED_ANON_KEY } from '../../src/config.ts'
import { supabaseClient } from '../helpers/auth.ts'

const until = async (what: string, check: () => boolean, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

t.test('SIGTERM under load: in-flight requests finish, new ones are refused, exit 0', async (t) => {
  const server = await spawnServer({ AUTH_MODE: 'jwt', LOG_LEVEL: 'info', LOGIN_RATE_LIMIT_MAX: '100000' })
  t.teardown(() => server.stop('SIGKILL'))
  const signUp = await supabaseClient(server.url, EMBEDDED_ANON_KEY).auth.signUp({ email: 'term@example.com', password: 'correct horse battery' })
  t.equal(signUp.error, null)

  const arrivals = () => server.output().split('\n').filter((line) => line.includes('"incoming request"') && line.includes('"url":"/auth/v1/token"')).length
  // Password sign-ins wait on bcrypt, so a few dozen at once are still being worked on
  // when the signal lands.
  const inFlight = Array.from({ length: 24 }, () =>
    fetch(`${server.url}/auth/v1/token?grant_type=password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', apikey: EMBEDDED_ANON_KEY },
      body: JSON.stringify({ email: 'term@example.com', password: 'correct horse battery' }),
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as { access_token?: string } }), (error: Error) => ({ status: 0, body: { access_token: undefined, error: error.message } })),
  )
  await until('the server has received every sign-in', () => arrivals() === 24)
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)))
  server.child.kill('SIGTERM')
  await until('the server has begun to shut down', () => server.output().includes('shutting down'))

  const late = await fetch(`${server.url}/health`).then((response) => response.status, () => 'refused')
  t.not(late, 200, `a request arriving after SIGTERM is not served (${late})`)
  t.ok(late === 503 || late === 'refused', 'it gets 503 or a refused connection')

  const answers = await Promise.all(inFlight)
  t.same(answers.map((a) => a.status), answers.map(() => 200), 'every sign-in received before the signal is answered 200')
  t.ok(answers.every((a) => typeof a.body.access_token === 'string'), 'each with its session')
  t.equal(await exited, 0, 'the process exits with 0')
  if (server.child.exitCode !== 0) t.comment(server.output().split('\n').slice(-8).join('\n'))
})

t.test('SIGTERM to the pid of npm start ends the server: exit 0, the port and the database freed', async (t) => {
  const server = await spawnServer({}, { npmStart: true })
  t.teardown(() => server.stop('SIGKILL'))
  const node = server.serverPid()
  t.not(node, undefined, 'npm runs the server as its own child (no shell in between)')
  const port = Number(new URL(server.url).port)
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0, 'npm exits 0')
  t.throws(() => process.kill(node, 0), { code: 'ESRCH' }, 'the server process is gone')
  const free = await new Promise<boolean>((resolve) => {
    const probe = createServer().once('error', () => resolve(false))
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)))
  })
  t.ok(free, `port ${port} is free again`)
  t.notOk(existsSync(join(server.dataDir, 'pgdata.lock')), 'the database lock is released')
})
