import t from 'tap'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { openPglite } from '../../src/db/pglite.ts'
import { seededDataDir } from '../helpers/backends.ts'
import { crashAndRestart } from '../helpers/crash.ts'

t.test('embedded database: SIGKILL of the process group mid-stream, restart at once, nothing acknowledged lost', async (t) => {
  const dataDir = await seededDataDir()
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const { acknowledged, holderAtRestart, nodePid, second } = await crashAndRestart(t, {}, dataDir)
  t.not(second.output(), /in use by process/, 'the restart was not refused')
  t.match(second.output(), `took over the stale lock of the embedded database in ${dataDir}/pgdata: it named process ${nodePid}`, 'and said it took the lock over')
  t.equal(await second.stop('SIGTERM'), 0, 'the restarted server stops cleanly')

  const db = await openPglite(join(dataDir, 'pgdata'))
  t.teardown(() => db.close())
  const { rows } = await db.query<{ slug: string }>('select slug from atoms.organizations where slug = any($1)', [acknowledged])
  t.comment(`embedded: ${acknowledged.length} writes acknowledged, ${rows.length} found after the restart; the killed server was ${{ Z: 'an unreaped zombie', gone: 'gone' }[holderAtRestart] ?? 'still exiting'} when the restart began`)
  t.equal(rows.length, acknowledged.length, `all ${acknowledged.length} acknowledged writes are in the database`)
})
