import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from '../../scripts/lib/ports.ts'
import { spawnServer } from '../../scripts/lib/spawn-server.ts'
import { startFlags } from '../../scripts/lib/start-command.ts'
import { formatHolder, procTable } from '../../src/db/folder-lock.ts'
import { seededDataDir } from '../helpers/backends.ts'

// A server process started on a data folder whose lock names a process that no longer holds it.

const table = procTable()
const stateOf = (pid: number) => table.info(pid)?.state ?? 'gone'

/**
 * A server whose parent never reaps it (the parent execs into sleep), started with the node
 * flags of `npm start`: killed, it stays a zombie for as long as the test needs, as a killed
 * server does whose parent died with it until the machine's first process reaps it.
 */
async function unreapedServer(t: { teardown(fn: () => unknown): void }, dataDir: string) {
  const port = String(await freePort())
  const parent = spawn('sh', ['-c', '"$@" & echo $!; exec sleep 300', 'sh', process.execPath, ...startFlags(), 'src/main.ts'], {
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', PORT: port, DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => parent.kill('SIGKILL'))
  let output = ''
  parent.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const pid = Number(await new Promise<string>((resolve) => parent.stdout!.setEncoding('utf8').once('data', resolve)))
  t.teardown(() => stateOf(pid) !== 'gone' && process.kill(pid, 'SIGKILL'))
  const url = `http://127.0.0.1:${port}`
  while (!(await fetch(`${url}/ready`).then((r) => r.ok, () => false))) {
    if (stateOf(pid) === 'gone' || stateOf(pid) === 'Z') throw new Error(`the server exited:\n${output}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return { pid, url, port, output: () => output }
}

t.test('a start on a folder whose lock names another process: taken over when that process does not hold it, refused while a server does', async (t) => {
  const dataDir = await seededDataDir()
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const lockFile = join(dataDir, 'pgdata.lock')
  // pid 1 with a start time not its own: what a container restart leaves, its first process now another one.
  writeFileSync(lockFile, formatHolder({ pid: 1, startTime: String(Number(table.info(1)!.startTime) + 1), bootId: table.bootId() }))
  const first = await unreapedServer(t, dataDir)
  t.match(first.output(), /took over the stale lock of the embedded database in .*: it named process 1, and that pid now belongs to another process/, 'a lock naming an unrelated live process (pid 1) is taken over, in one line')
  t.equal(readFileSync(lockFile, 'utf8').split('\n')[0], String(first.pid), 'the lock now names the new server')

  await t.rejects(
    spawnServer({}, { dataDir }),
    new RegExp(`atoms-mcp cannot start: the embedded database in .*pgdata is in use by process ${first.pid} \\(a running atoms-mcp\\?\\); stop it first`),
    'a second server on the folder of a live one is refused with the usual message',
  )
  t.equal((await fetch(`${first.url}/ready`)).status, 200, 'the first keeps serving')

  process.kill(first.pid, 'SIGKILL')
  while (stateOf(first.pid) !== 'Z') await new Promise((r) => setTimeout(r, 20))
  const restarted = await spawnServer({ PORT: first.port }, { dataDir })
  t.teardown(() => restarted.stop('SIGKILL'))
  t.equal(stateOf(first.pid), 'Z', 'the killed server is still an unreaped zombie')
  t.match(restarted.output(), new RegExp(`took over the stale lock of the embedded database in .*: it named process ${first.pid}, and that process has exited \\(a zombie not yet reaped\\)`), 'and its lock is taken over')
  t.equal((await fetch(`${restarted.url}/ready`)).status, 200, 'the restarted server serves')
})
