import t from 'tap'
import { openPostgres } from '../src/db/postgres.ts'
import { createDatabase } from '../scripts/lib/services.ts'

const serverUrl = process.env.TEST_DATABASE_URL

t.test('statements on PostgreSQL', { skip: serverUrl ? false : 'no TEST_DATABASE_URL (run through npm test)' }, async (t) => {
  const database = await createDatabase(serverUrl!)
  t.teardown(() => database.drop())
  const preparedIn = async (db: Awaited<ReturnType<typeof openPostgres>>) =>
    db.transaction(async (tx) => {
      await tx.query('select $1::int as n', [1])
      const { rows } = await tx.query<{ name: string }>("select name from pg_prepared_statements where statement like 'select $1::int as n%'")
      return rows.map((row) => row.name)
    })

  t.test('are prepared once per connection under a name by default', async (t) => {
    const db = await openPostgres(database.url, { max: 1 })
    t.teardown(() => db.close())
    const names = await preparedIn(db)
    t.equal(names.length, 1, 'the statement is prepared')
    t.match(names[0], /^atoms_\d+$/)
  })

  t.test('are left unnamed with preparedStatements: false (poolers without them)', async (t) => {
    const db = await openPostgres(database.url, { max: 1, preparedStatements: false })
    t.teardown(() => db.close())
    t.same(await preparedIn(db), [])
  })

  t.test('survive a table gaining a column after they were prepared', async (t) => {
    const db = await openPostgres(database.url, { max: 1 })
    t.teardown(() => db.close())
    await db.exec('create table widened (id int primary key); insert into widened values (1)')
    const before = await db.query<Record<string, unknown>>('select * from widened where id = $1', [1])
    t.same(before.rows, [{ id: 1 }])
    // Another connection migrates, as a newer instance would.
    const other = await openPostgres(database.url, { max: 1 })
    await other.exec("alter table widened add column label text not null default 'new'")
    await other.close()
    const after = await db.query<Record<string, unknown>>('select * from widened where id = $1', [1])
    t.same(after.rows, [{ id: 1, label: 'new' }], 'the stale prepared form is dropped and the call answered')
    const again = await db.query<Record<string, unknown>>('select * from widened where id = $1', [1])
    t.same(again.rows, [{ id: 1, label: 'new' }], 'and later calls run unnamed')
  })
})
