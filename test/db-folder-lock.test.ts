import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { acquireLock, formatHolder, LockHeldError, parseHolder, procTable, staleReason } from '../src/db/folder-lock.ts'
import { DatabaseInUseError, openPglite } from '../src/db/pglite.ts'
import { tempDir } from './helpers/backends.ts'
import { seedPglite } from '../scripts/lib/pglite-template.ts'

type Teardown = { teardown(fn: () => unknown): void }

const table = procTable()
const startTimeOf = (pid: number) => table.info(pid)!.startTime

/** A fresh lock file path in its own folder. */
function lockPath(t: Teardown) {
  const dir = tempDir()
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'pgdata.lock')
}

/** A process that stays up until the test ends: `sleep`, or a node process as a server would be. */
function livePeer(t: Teardown, command: 'sleep' | 'node' = 'sleep') {
  const child = command === 'node' ? spawn(process.execPath, ['-e', 'setTimeout(() => {}, 300_000)'], { stdio: 'ignore' }) : spawn('sleep', ['300'], { stdio: 'ignore' })
  t.teardown(() => child.kill('SIGKILL'))
  return child.pid!
}

/**
 * A process that has exited but was never reaped: `sh` forks a child, execs into `sleep`,
 * and sleep never waits for it. Its parent is alive, like a killed server's parent that
 * has not reaped it yet; what matters is what /proc says. The child outlives the `exec` by a
 * moment, since `sh` reaps a child that ends before it execs; on a machine too loaded for
 * that moment, a new parent is tried.
 */
async function zombie(t: Teardown): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const parent = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 300'], { stdio: ['ignore', 'pipe', 'ignore'] })
    t.teardown(() => parent.kill('SIGKILL'))
    const pid = Number(await new Promise<string>((resolve) => parent.stdout!.setEncoding('utf8').once('data', resolve)))
    for (let i = 0; i < 2000 && table.info(pid) && table.info(pid)!.state !== 'Z'; i++) await new Promise((r) => setTimeout(r, 5))
    if (table.info(pid)?.state === 'Z') return pid
    parent.kill('SIGKILL')
  }
  throw new Error('no zombie could be made')
}

t.test('the lock names its holder with what tells it from a later process with the same pid', async (t) => {
  const file = lockPath(t)
  const lock = acquireLock(file)
  const holder = parseHolder(readFileSync(file, 'utf8'))!
  t.equal(holder.pid, process.pid)
  t.equal(holder.startTime, startTimeOf(process.pid), 'with its start time')
  t.equal(holder.bootId, table.bootId(), 'and the boot it belongs to')
  t.equal(lock.tookOver, undefined, 'a fresh lock takes nothing over')
  t.equal(holder.url, undefined, 'and no address when the holder serves none')
  lock.release()
  t.notOk(existsSync(file), 'releasing removes it')

  // finding 17.4: a server records where it answers, for the commands that go through it.
  const server = acquireLock(file, table, 'http://localhost:9999/fastmcp')
  t.equal(parseHolder(readFileSync(file, 'utf8'))!.url, 'http://localhost:9999/fastmcp', 'a server records where it answers')
  server.release()
  t.equal(parseHolder('42\nurl file:///etc/passwd\n')!.url, undefined, 'and only an http address is read back')
})

t.test('a live holder keeps the folder: a second server is refused with the usual message', async (t) => {
  const file = lockPath(t)
  const peer = livePeer(t, 'node')
  writeFileSync(file, formatHolder({ pid: peer, startTime: startTimeOf(peer), bootId: table.bootId() }))
  t.throws(() => acquireLock(file), LockHeldError)
  t.equal(parseHolder(readFileSync(file, 'utf8'))!.pid, peer, 'the holder keeps its lock')

  const dir = file.replace(/\.lock$/, '')
  await t.rejects(openPglite(dir), DatabaseInUseError)
  await t.rejects(openPglite(dir), new RegExp(`in use by process ${peer} \\(a running atoms-mcp\\?\\); stop it first`))
})

t.test('a lock left by a process that is gone is taken over', async (t) => {
  const file = lockPath(t)
  const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' })
  writeFileSync(file, formatHolder({ pid: Number(gone.stdout), startTime: '1', bootId: table.bootId() }))
  const lock = acquireLock(file)
  t.match(lock.tookOver, { holder: { pid: Number(gone.stdout) }, reason: 'that process is gone' })
  t.equal(parseHolder(readFileSync(file, 'utf8'))!.pid, process.pid)
  lock.release()
})

t.test('an unreaped zombie holder does not block a start', async (t) => {
  const file = lockPath(t)
  const pid = await zombie(t)
  t.equal(table.info(pid)?.state, 'Z', `process ${pid} is a zombie`)
  t.ok(table.signalable(pid), 'which kill(pid, 0) still reaches')
  writeFileSync(file, formatHolder({ pid, startTime: startTimeOf(pid), bootId: table.bootId() }))
  const lock = acquireLock(file)
  t.match(lock.tookOver, { holder: { pid }, reason: /zombie/ })
  lock.release()
})

t.test('a lock naming pid 1 is taken over', async (t) => {
  const file = lockPath(t)
  writeFileSync(file, formatHolder({ pid: 1, startTime: String(Number(startTimeOf(1)) + 12345), bootId: table.bootId() }))
  t.match(acquireLock(file).tookOver, { holder: { pid: 1 }, reason: 'that pid now belongs to another process' }, 'with a recorded start time that is not its own')
  writeFileSync(file, '1\n')
  t.match(acquireLock(file).tookOver, { holder: { pid: 1 } }, 'and in the old format, naming only the pid, when pid 1 is not a node process')
})

t.test('a lock naming an unrelated live process (its pid reused) is taken over', async (t) => {
  const file = lockPath(t)
  const peer = livePeer(t)
  writeFileSync(file, formatHolder({ pid: peer, startTime: String(Number(startTimeOf(peer)) - 1), bootId: table.bootId() }))
  const lock = acquireLock(file)
  t.match(lock.tookOver, { holder: { pid: peer }, reason: 'that pid now belongs to another process' })
  t.equal(table.info(peer)?.state !== undefined, true, 'the unrelated process is left alone')
  lock.release()
})

t.test('a lock from before the machine restarted is taken over', async (t) => {
  const peer = livePeer(t, 'node')
  t.equal(staleReason({ pid: peer, startTime: startTimeOf(peer), bootId: '00000000-0000-0000-0000-000000000000' }), 'the machine has restarted since')
  t.equal(staleReason({ pid: peer, startTime: startTimeOf(peer), bootId: table.bootId() }), undefined, 'the same record from this boot holds')
})

t.test('an unreadable lock is taken over', async (t) => {
  const file = lockPath(t)
  writeFileSync(file, 'garbage\n')
  const lock = acquireLock(file)
  t.match(lock.tookOver, { reason: 'it is unreadable' })
  lock.release()
})

t.test('releasing leaves a lock that is not its own in place', async (t) => {
  const file = lockPath(t)
  const lock = acquireLock(file)
  const peer = livePeer(t, 'node')
  writeFileSync(file, formatHolder({ pid: peer, startTime: startTimeOf(peer) }))
  lock.release()
  t.ok(existsSync(file), 'the other holder keeps it')
})

t.test('a stale lock taken over is said in one line when the embedded database opens', async (t) => {
  const dir = tempDir()
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  await seedPglite(join(dir, 'pgdata'))
  writeFileSync(join(dir, 'pgdata.lock'), '1\n')
  const notices: string[] = []
  const db = await openPglite(join(dir, 'pgdata'), { notice: (line) => notices.push(line) })
  await db.close()
  t.equal(notices.length, 1)
  t.match(notices[0], /^took over the stale lock of the embedded database in .*pgdata: it named process 1, and /)
})
