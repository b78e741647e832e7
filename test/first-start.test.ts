import t from 'tap'
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { freePort } from '../scripts/lib/ports.ts'
import { startFlags } from '../scripts/lib/start-command.ts'
import { tempDir } from './helpers/backends.ts'

t.test('the first start says it is creating the embedded database, and /health answers all along', async (t) => {
  const dataDir = tempDir()
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, [...startFlags(), 'src/main.ts'], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  t.teardown(async () => {
    child.kill('SIGTERM')
    await exited
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))

  while (!stderr.includes('creating the embedded database')) {
    if (child.exitCode !== null) throw new Error(`exited: ${stderr}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  t.match(stderr, /^atoms-mcp: creating the embedded database in .*pgdata \(first start only, about 10 s\); \/health answers meanwhile\n/, 'the first line says what is happening')

  const health = await fetch(`${url}/health`)
  t.equal(health.status, 200, '/health answers while the database is created')
  t.same(await health.json(), { status: 'starting' })
  const ready = await fetch(`${url}/ready`)
  t.equal(ready.status, 503, '/ready does not, yet')
  t.equal(ready.headers.get('retry-after'), '5')
  const mcp = await fetch(`${url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  t.equal(mcp.status, 503, 'other requests are told to retry')
  t.match(await mcp.json(), { error: 'temporarily_unavailable', error_description: /the server is starting/ })

  // From here until the server proper answers, /health never fails with a status: the server
  // binds beside the placeholder. Only a connection the kernel queued on the placeholder in the
  // instant it closes can be reset, once.
  const failures: string[] = []
  for (;;) {
    const answer = await fetch(`${url}/health`).then(async (r) => (r.status === 200 ? ((await r.json()) as { status: string }).status : `HTTP ${r.status}`), (error: Error) => `refused: ${error.message}`)
    if (answer === 'ok') break
    if (answer !== 'starting') failures.push(answer)
    if (child.exitCode !== null) throw new Error(`exited: ${stderr}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  t.same(failures.filter((failure) => !failure.startsWith('refused: ')), [], '/health answered 200 at every poll through the hand-over')
  t.ok(failures.length <= 1, `at most the one connection reset in the hand-over (${failures.join(', ') || 'none'})`)
  t.equal((await fetch(`${url}/ready`)).status, 200, 'the server is ready')
  t.match(stderr, /atoms-mcp listening on /, 'and its banner follows')
  t.equal(stdout, '', 'nothing on stdout')

  // finding 17.3: Ctrl-C in a terminal ends it as gracefully as SIGTERM does.
  child.kill('SIGINT')
  t.equal(await exited, 0, 'Ctrl-C (SIGINT) ends it with exit 0')
})
