import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../src/db/open.ts'
import { isNewEmbeddedFolder } from '../src/db/prepare-embedded.ts'

t.test('a first start creates and migrates the embedded database in a child process', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'atoms-mcp-prepare-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  t.ok(isNewEmbeddedFolder(join(dataDir, 'pgdata')), 'an empty data folder is new')
  const db = await openDatabase({ dataDir, databaseUrl: undefined })
  t.teardown(() => db.close())
  t.notOk(isNewEmbeddedFolder(join(dataDir, 'pgdata')), 'and holds a database afterwards')
  const applied = await db.query<{ count: number }>('select count(*)::int as count from public.atoms_migrations')
  t.ok(applied.rows[0]!.count > 0, 'with the migrations applied')
})

t.test('a folder that cannot be created is reported, not a crash', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'atoms-mcp-prepare-'))
  t.teardown(() => rmSync(parent, { recursive: true, force: true }))
  // A file where the data folder should be: nothing can be created under it.
  writeFileSync(join(parent, 'data'), 'not a folder')
  await t.rejects(openDatabase({ dataDir: join(parent, 'data'), databaseUrl: undefined }), /creating the embedded database in .* failed: .*(EEXIST|ENOTDIR|exists|not a directory)/)
})
