import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports.ts'
import { seedPglite } from './pglite-template.ts'
import { startFlags } from './start-command.ts'

export interface ServerProcess {
  url: string
  child: ChildProcess
  dataDir: string
  /** Everything the process wrote, for tests and scripts that read the logs. */
  output(): string
  /** The pid of the server itself: npm's child under `npm start`, the child otherwise. */
  serverPid(): number
  /** Resolves with the exit code of the process started (npm's under `npm start`). */
  exited: Promise<number | null>
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export interface SpawnOptions {
  dataDir?: string
  timeoutMs?: number
  pollMs?: number
  /** `npm start` as a newcomer or a supervisor runs it, in its own process group; otherwise node directly. */
  npmStart?: boolean
  /** Node flags added to `npm start`'s own (a CPU profile, say). */
  nodeFlags?: string[]
}

/** The pids whose parent is `pid`, from /proc. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/**
 * Starts the server as `npm start` does (same Node flags) as its own process on a free loopback port, with a fresh data
 * folder unless one is given, and resolves once `/ready` answers 200.
 */
export async function spawnServer(env: Record<string, string> = {}, options: SpawnOptions = {}): Promise<ServerProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort()
  const ownDataDir = !options.dataDir && !env.DATA_DIR
  const dataDir = options.dataDir ?? env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'atoms-mcp-proc-'))
  // Under the test runner, a fresh embedded database is copied, migrated, rather than initialised.
  if (process.env.TEST_PGLITE_TEMPLATE && !env.DATABASE_URL && !existsSync(join(dataDir, 'pgdata'))) await seedPglite(join(dataDir, 'pgdata'), { migrated: true })
  const childEnv = { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env, PORT: String(port), DATA_DIR: dataDir }
  const child = options.npmStart
    ? spawn('npm', ['start'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    : spawn(process.execPath, [...startFlags(), ...(options.nodeFlags ?? []), 'src/main.ts'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`)
    const ready = await fetch(`${url}/ready`).then((r) => r.ok, () => false)
    if (ready) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`server not ready after ${options.timeoutMs ?? 60_000} ms:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 50))
  }
  return {
    url,
    child,
    dataDir,
    output: () => output,
    serverPid: () => (options.npmStart ? childrenOf(child.pid!)[0]! : child.pid!),
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal)
      const code = await exited
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true })
      return code
    },
  }
}
