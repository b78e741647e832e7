/**
 * `node src/db/prepare-embedded.ts DIR`: creates the embedded database in DIR and applies the
 * migrations, then exits. The server runs it as a child process on its first start: initdb
 * and the first migrations grow PGlite's WebAssembly memory by several hundred megabytes, a
 * WebAssembly memory never shrinks, and a child's memory goes back when it exits.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { migrate } from './migrate.ts'
import { openPglite } from './pglite.ts'

const SELF = fileURLToPath(import.meta.url)

/** True when `dir` holds no embedded database yet. */
export const isNewEmbeddedFolder = (dir: string) => !existsSync(join(dir, 'PG_VERSION'))

export async function prepareInChildProcess(dir: string): Promise<void> {
  const child = spawn(process.execPath, [SELF, dir], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('exit', resolve))
  if (code !== 0) throw new Error(`creating the embedded database in ${dir} failed: ${stderr.trim().split('\n').at(-1) || `exit code ${code}`}`)
}

if (process.argv[1] === SELF) {
  try {
    const db = await openPglite(process.argv[2]!)
    try {
      await migrate(db)
    } finally {
      await db.close()
    }
  } catch (error) {
    // One line for the parent to quote, not a stack.
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
  }
}
