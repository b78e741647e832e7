import t from 'tap'
import { rmSync } from 'node:fs'
import pg from 'pg'
import { createDatabase } from '../../scripts/lib/services.ts'
import { seededDataDir } from '../helpers/backends.ts'
import { crashAndRestart } from '../helpers/crash.ts'

t.test('PostgreSQL: SIGKILL of the process group mid-stream, restart at once, nothing acknowledged lost', { skip: process.env.TEST_DATABASE_URL ? false : 'needs the PostgreSQL server npm test starts' }, async (t) => {
  const database = await createDatabase(process.env.TEST_DATABASE_URL!)
  t.teardown(() => database.drop())
  const dataDir = await seededDataDir()
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const { acknowledged, second } = await crashAndRestart(t, { DATABASE_URL: database.url }, dataDir)
  t.equal(await second.stop('SIGTERM'), 0, 'the restarted server stops cleanly')

  const admin = new pg.Client({ connectionString: database.url })
  await admin.connect()
  t.teardown(() => admin.end())
  const { rows } = await admin.query<{ slug: string }>('select slug from atoms.organizations where slug = any($1)', [acknowledged])
  t.comment(`PostgreSQL: ${acknowledged.length} writes acknowledged, ${rows.length} found after the restart`)
  t.equal(rows.length, acknowledged.length, `all ${acknowledged.length} acknowledged writes are in the database`)
})
