import { cpSync, existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openPglite } from '../../src/db/pglite.ts'
import { migrate } from '../../src/db/migrate.ts'

/**
 * Freshly initialised PGlite data folders to copy from: one empty, one with every migration
 * applied. Initialising one costs seconds of CPU (initdb in WebAssembly) and migrating it
 * about another second, while copying one costs a fraction of that, and the test suite
 * creates a great many databases. `npm test` makes both once and passes their paths down in
 * TEST_PGLITE_TEMPLATE and TEST_PGLITE_MIGRATED_TEMPLATE; a process started otherwise makes
 * its own on first use.
 */
const made: { empty?: Promise<string>; migrated?: Promise<string> } = {}

/** A new template folder; `from` (an empty template) saves the migrated one its initdb. */
export async function makePgliteTemplate(options: { migrated?: boolean; from?: string } = {}): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'atoms-mcp-pglite-template-')), 'pgdata')
  if (options.from) cpSync(options.from, dir, { recursive: true })
  const db = await openPglite(dir)
  if (options.migrated) await migrate(db)
  await db.close()
  return dir
}

export function pgliteTemplate(options: { migrated?: boolean } = {}): Promise<string> {
  const kind = options.migrated ? 'migrated' : 'empty'
  const given = process.env[options.migrated ? 'TEST_PGLITE_MIGRATED_TEMPLATE' : 'TEST_PGLITE_TEMPLATE']
  if (given && existsSync(given)) return Promise.resolve(given)
  made[kind] ??= options.migrated ? pgliteTemplate().then((from) => makePgliteTemplate({ migrated: true, from })) : makePgliteTemplate()
  return made[kind]
}

/**
 * Puts an embedded database at `target` (a PGlite data folder that does not exist yet):
 * empty, or with every migration already applied.
 */
export async function seedPglite(target: string, options: { migrated?: boolean } = {}): Promise<void> {
  cpSync(await pgliteTemplate(options), target, { recursive: true })
}
