import { cpSync, existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openPglite } from '../../src/db/pglite.ts'

/**
 * A freshly initialised, empty PGlite data folder to copy from. Initialising one costs
 * seconds of CPU (initdb in WebAssembly) while copying one costs a fraction of that, and the
 * test suite creates a great many databases. `npm test` makes it once and passes its path
 * down in TEST_PGLITE_TEMPLATE; a process started otherwise makes its own on first use.
 */
let made: Promise<string> | undefined

export async function makePgliteTemplate(): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'atoms-mcp-pglite-template-')), 'pgdata')
  const db = await openPglite(dir)
  await db.close()
  return dir
}

export function pgliteTemplate(): Promise<string> {
  const given = process.env.TEST_PGLITE_TEMPLATE
  if (given && existsSync(given)) return Promise.resolve(given)
  made ??= makePgliteTemplate()
  return made
}

/** Puts an empty embedded database at `target` (a PGlite data folder that does not exist yet). */
export async function seedPglite(target: string): Promise<void> {
  cpSync(await pgliteTemplate(), target, { recursive: true })
}
