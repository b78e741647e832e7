import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'

/**
 * Who holds a lock: the pid, and what makes that pid this process rather than a later one
 * given the same number (the kernel's boot id and the process's start time, in clock ticks
 * since boot). Pids repeat, across container restarts above all, and a lock file in the
 * data folder outlives the process that wrote it.
 */
export interface LockHolder {
  pid: number
  /** Unknown off Linux, and in locks written before the start time was recorded. */
  startTime?: string
  bootId?: string
  /**
   * Where the holder answers HTTP on this machine, when it is a server: the commands that go
   * through a running server use it rather than their own BASE_URL, which may name another port.
   */
  url?: string
}

/** What /proc says about a process: undefined when it does not exist. */
export interface ProcessInfo {
  /** The state letter of /proc/<pid>/stat: `Z` for a zombie, `X` for a dead one. */
  state: string
  startTime: string
}

/** Where the identity of processes comes from; tests hand in their own /proc root. */
export interface ProcessTable {
  bootId(): string | undefined
  /** undefined: no such process; null: this system has no /proc to ask. */
  info(pid: number): ProcessInfo | undefined | null
  /** Its command line, words separated by spaces. */
  commandLine(pid: number): string | undefined
  /** Whether a signal could reach `pid` (true for zombies too): the answer off Linux. */
  signalable(pid: number): boolean
}

const readOr = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

export function procTable(root = '/proc'): ProcessTable {
  const hasProc = readOr(`${root}/self/stat`) !== undefined
  return {
    bootId: () => readOr(`${root}/sys/kernel/random/boot_id`)?.trim() || undefined,
    info(pid) {
      if (!hasProc) return null
      const stat = readOr(`${root}/${pid}/stat`)
      if (stat === undefined) return undefined
      // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      return { state: fields[0]!, startTime: fields[19]! }
    },
    commandLine: (pid) => readOr(`${root}/${pid}/cmdline`)?.replaceAll('\0', ' '),
    signalable(pid) {
      try {
        process.kill(pid, 0)
        return true
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'EPERM'
      }
    },
  }
}

export function describeSelf(table: ProcessTable = procTable()): LockHolder {
  return { pid: process.pid, startTime: table.info(process.pid)?.startTime, bootId: table.bootId() }
}

/** First line the pid (what an operator reads), then `key value` lines. */
export function formatHolder(holder: LockHolder): string {
  return [String(holder.pid), holder.startTime && `start ${holder.startTime}`, holder.bootId && `boot ${holder.bootId}`, holder.url && `url ${holder.url}`].filter(Boolean).join('\n') + '\n'
}

export function parseHolder(text: string): LockHolder | undefined {
  const [first, ...rest] = text.split('\n')
  const pid = Number(first?.trim())
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  const holder: LockHolder = { pid }
  for (const line of rest) {
    const [key, value] = line.trim().split(/\s+/, 2)
    if (key === 'start' && value) holder.startTime = value
    if (key === 'boot' && value) holder.bootId = value
    if (key === 'url' && value && /^https?:\/\//.test(value)) holder.url = value
  }
  return holder
}

/** Why a recorded holder no longer holds anything, or undefined while it does. */
export function staleReason(holder: LockHolder, table: ProcessTable = procTable()): string | undefined {
  if (holder.pid === process.pid) return 'it names this process'
  const bootId = table.bootId()
  if (holder.bootId && bootId && holder.bootId !== bootId) return 'the machine has restarted since'
  const info = table.info(holder.pid)
  if (info === null) return table.signalable(holder.pid) ? undefined : 'that process is gone'
  if (info === undefined) return 'that process is gone'
  if (info.state === 'Z' || info.state === 'X') return 'that process has exited (a zombie not yet reaped)'
  if (holder.startTime && holder.startTime !== info.startTime) return 'that pid now belongs to another process'
  // A lock from before start times were recorded names a live process that may be anything.
  if (!holder.startTime && !/\bnode\b/.test(table.commandLine(holder.pid) ?? '')) return 'that pid now belongs to another process'
  return undefined
}

export interface HeldLock {
  release(): void
  /** Set when a lock left by a process that no longer holds it was taken over. */
  tookOver?: { holder: LockHolder; reason: string }
}

export class LockHeldError extends Error {
  readonly holder: LockHolder
  constructor(holder: LockHolder, lockFile: string) {
    super(`${lockFile} is held by process ${holder.pid}`)
    this.holder = holder
    this.name = 'LockHeldError'
  }
}

/**
 * Claims `lockFile` for this process: created exclusively, so of two starting at once one
 * wins; a stale lock is first moved aside (a rename only one of several can make), and
 * taken over only if what was moved is still the stale lock that was read.
 */
export function acquireLock(lockFile: string, table: ProcessTable = procTable(), url?: string): HeldLock {
  const self = formatHolder({ ...describeSelf(table), url })
  let tookOver: HeldLock['tookOver']
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      writeFileSync(lockFile, self, { flag: 'wx' })
      return { release: () => releaseIfOwn(lockFile, self), tookOver }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const text = readOr(lockFile)
    if (text === undefined) continue
    const holder = parseHolder(text)
    const reason = holder ? staleReason(holder, table) : 'it is unreadable'
    if (!reason) throw new LockHeldError(holder!, lockFile)
    const aside = `${lockFile}.stale-${process.pid}`
    try {
      renameSync(lockFile, aside)
    } catch {
      continue
    }
    if (readOr(aside) === text) {
      rmSync(aside, { force: true })
      tookOver = { holder: holder ?? { pid: 0 }, reason }
    } else {
      // Another starting process took the lock over between the read and the rename: give it back.
      try {
        renameSync(aside, lockFile)
      } catch {
        /* it is gone again; the next attempt sorts it out */
      }
    }
  }
  throw new Error(`could not claim ${lockFile}: it keeps changing (several processes starting on one folder?)`)
}

function releaseIfOwn(lockFile: string, self: string) {
  if (readOr(lockFile) === self) rmSync(lockFile, { force: true })
}
