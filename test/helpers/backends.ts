import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Db } from '../../src/db/db.ts'
import { openPglite } from '../../src/db/pglite.ts'
import { openPostgres } from '../../src/db/postgres.ts'
import { createDatabase } from '../../scripts/lib/services.ts'
import { seedPglite } from '../../scripts/lib/pglite-template.ts'

export interface Backend {
  name: 'pglite' | 'postgres'
  /**
   * A fresh database, empty or (`migrated`) with every migration applied, as a copy of the
   * suite's template; `dispose` removes it.
   */
  create(options?: { migrated?: boolean }): Promise<{ db: Db; url?: string; dataDir: string; dispose(): Promise<void> }>
}

export function tempDir(prefix = 'atoms-mcp-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

const pglite: Backend = {
  name: 'pglite',
  async create(options = {}) {
    const dataDir = tempDir()
    await seedPglite(join(dataDir, 'pgdata'), options)
    const db = await openPglite(join(dataDir, 'pgdata'))
    return {
      db,
      dataDir,
      async dispose() {
        await db.close().catch(() => {})
        rmSync(dataDir, { recursive: true, force: true })
      },
    }
  },
}

/** Each call makes its own database on the test server, so test files never share state. */
const postgres = (serverUrl: string): Backend => ({
  name: 'postgres',
  async create(options = {}) {
    // Without the suite's template (a file run on its own), the caller's migrate does the work.
    const template = options.migrated ? process.env.TEST_DATABASE_TEMPLATE : undefined
    const database = await createDatabase(serverUrl, 'atoms_test', template)
    const db = await openPostgres(database.url)
    const dataDir = tempDir()
    return {
      db,
      url: database.url,
      dataDir,
      async dispose() {
        await db.close().catch(() => {})
        await database.drop()
        rmSync(dataDir, { recursive: true, force: true })
      },
    }
  },
})

/** PGlite always; a real PostgreSQL server too when `npm test` started one. */
export function backends(): Backend[] {
  const url = process.env.TEST_DATABASE_URL
  return url ? [pglite, postgres(url)] : [pglite]
}

/** A temporary DATA_DIR holding an embedded database with every migration applied, for server processes a test spawns. */
export async function seededDataDir(): Promise<string> {
  const dir = tempDir()
  await seedPglite(join(dir, 'pgdata'), { migrated: true })
  return dir
}
