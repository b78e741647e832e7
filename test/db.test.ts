import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { inlineParameters } from '../src/db/db.ts'
import { listMigrations, migrate } from '../src/db/migrate.ts'
import { openDatabase } from '../src/db/open.ts'
import { DatabaseInUseError, openPglite } from '../src/db/pglite.ts'
import { openPostgres } from '../src/db/postgres.ts'
import { backends, tempDir } from './helpers/backends.ts'
import { formatHolder, procTable } from '../src/db/folder-lock.ts'

const recorded = async (db: { query: (sql: string) => Promise<{ rows: any[] }> }) =>
  (await db.query('select name from public.atoms_migrations order by name')).rows.map((r) => r.name as string)

t.test('migration files are numbered and listed in order', async (t) => {
  const names = listMigrations().map((m) => m.name)
  t.ok(names.length > 0)
  t.same(names, [...names].sort())
  t.ok(names.every((name) => /^\d{4}_[\w-]+\.sql$/.test(name)))

  const dir = tempDir()
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, '0002_second.sql'), 'select 2;')
  writeFileSync(join(dir, '0001_first.sql'), 'select 1;')
  writeFileSync(join(dir, 'notes.md'), 'not a migration')
  writeFileSync(join(dir, '12_short.sql'), 'not a migration either')
  t.same(listMigrations(`${dir}/`).map((m) => m.name), ['0001_first.sql', '0002_second.sql'], 'only NNNN_name.sql files, by name')
})

for (const backend of backends()) {
  t.test(`the database layer on ${backend.name}`, async (t) => {
    const store = await backend.create()
    t.teardown(() => store.dispose())
    const { db } = store
    t.equal(db.kind, backend.name)

    t.test('migrations are applied once, recorded, and idempotent', async (t) => {
      const all = listMigrations().map((m) => m.name)
      t.same(await migrate(db), all, 'a fresh database gets every migration')
      t.same(await recorded(db), all, 'each one is recorded')
      const tables = await db.query<{ table_name: string }>(
        "select table_name from information_schema.tables where table_schema = 'embedded_auth' order by table_name",
      )
      t.same(tables.rows.map((r) => r.table_name), ['flow_states', 'identities', 'oauth_authorizations', 'oauth_clients', 'oauth_consents', 'refresh_tokens', 'sessions', 'signing_keys', 'users'], 'the embedded auth tables exist')
      t.same(await migrate(db), [], 'a second run applies nothing')
      t.same(await recorded(db), all, 'and records nothing new')
    })

    t.test('a new migration is applied after the recorded ones; a failing run changes nothing', async (t) => {
      const base = listMigrations()
      const extra = { name: '9001_test_table.sql', sql: 'create table public.migration_probe (id int primary key); insert into public.migration_probe values (1);' }
      t.same(await migrate(db, [...base, extra]), ['9001_test_table.sql'], 'only the new one runs')
      t.equal((await db.query('select count(*)::int as n from public.migration_probe')).rows[0]!.n, 1)

      const good = { name: '9002_good.sql', sql: 'create table public.migration_good (id int);' }
      const bad = { name: '9003_bad.sql', sql: 'create table public.migration_bad (id int); select * from no_such_table;' }
      await t.rejects(migrate(db, [...base, extra, good, bad]), 'a broken migration fails the run')
      t.notOk((await recorded(db)).includes('9002_good.sql'), 'nothing of the failed run is recorded')
      const left = await db.query("select table_name from information_schema.tables where table_name in ('migration_good', 'migration_bad')")
      t.equal(left.rows.length, 0, 'and nothing of it is left behind')
    })

    t.test('transactions commit or roll back as a whole', async (t) => {
      await db.exec('create table public.tx_probe (id int primary key, note text)')
      const value = await db.transaction(async (tx) => {
        await tx.query('insert into public.tx_probe values ($1, $2)', [1, 'kept'])
        const seen = await tx.query('select note from public.tx_probe where id = 1')
        t.equal(seen.rows[0]?.note, 'kept', 'a transaction sees its own writes')
        return 'result'
      })
      t.equal(value, 'result', 'the work result comes back')

      await t.rejects(
        db.transaction(async (tx) => {
          await tx.query('insert into public.tx_probe values ($1, $2)', [2, 'dropped'])
          await tx.query('update public.tx_probe set note = $1 where id = 1', ['changed'])
          throw new Error('stop')
        }),
        { message: 'stop' },
        'the error of the work comes out',
      )
      const rows = (await db.query('select id, note from public.tx_probe order by id')).rows
      t.same(rows, [{ id: 1, note: 'kept' }], 'a rolled-back transaction leaves nothing')

      await t.rejects(db.transaction((tx) => tx.query('insert into public.tx_probe values (1, $1)', ['duplicate'])), 'a failing statement fails the transaction')
      t.equal((await db.query('select count(*)::int as n from public.tx_probe')).rows[0]!.n, 1)
      t.equal((await db.query('select 1 as one')).rows[0]!.one, 1, 'the database still works after a rollback')
      const result = await db.query('update public.tx_probe set note = $1', ['x'])
      t.equal(result.rowCount, 1, 'rowCount counts changed rows')
    })

    t.test('transaction settings arrive exactly as given and last for that transaction only', async (t) => {
      const awkward = JSON.stringify({ quote: "it's", backslash: 'a\\b\\\'', newline: 'x\ny', unicode: 'é😀', nul: '\u0000' })
      const seen = await db.transaction((tx) => tx.query("select current_setting('atoms.probe', true) as probe, current_setting('atoms.other', true) as other"), {
        settings: { 'atoms.probe': awkward, 'atoms.other': "'; select 1; --" },
      })
      t.equal(seen.rows[0]!.probe, awkward, 'quotes, backslashes and any character come through unchanged')
      t.equal(seen.rows[0]!.other, "'; select 1; --", 'a value cannot end its literal')
      const after = await db.query("select coalesce(current_setting('atoms.probe', true), '') as probe")
      t.equal(after.rows[0]!.probe, '', 'gone after the transaction')
    })

    t.test('queryIn: one statement with its settings, in a transaction of its own', async (t) => {
      const settings = { role: 'authenticated', 'request.jwt.claims': JSON.stringify({ sub: '11111111-1111-4111-8111-111111111111', quote: "it's \\ 😀" }) }
      const seen = await db.queryIn<any>("select current_user as who, auth.uid() as uid, current_setting('request.jwt.claims', true) as claims, $1::text as a, $2::int as n, $3::boolean as b, $4::text as nothing", [
        "'; drop table public.tx_probe; --", 42, true, null,
      ], { settings })
      t.same(seen.rows[0], { who: 'authenticated', uid: '11111111-1111-4111-8111-111111111111', claims: settings['request.jwt.claims'], a: "'; drop table public.tx_probe; --", n: 42, b: true, nothing: null }, 'role, claims and every parameter arrive as given')
      t.equal((await db.query('select count(*)::int as n from public.tx_probe')).rows[0]!.n, 1, 'a parameter cannot end its literal')
      for (let i = 0; i < 12; i++) {
        // More calls than the pool has connections: none comes back with the role or claims set.
        const after = await db.query<any>("select current_user as who, coalesce(current_setting('request.jwt.claims', true), '') as claims")
        t.not(after.rows[0].who, 'authenticated')
        t.equal(after.rows[0].claims, '')
      }
      await t.rejects(db.queryIn('select 1 / $1::int', [0], { settings }), { code: '22012' }, 'a failing statement fails the call')
      const clean = await db.query<any>("select current_user as who, coalesce(current_setting('request.jwt.claims', true), '') as claims")
      t.not(clean.rows[0].who, 'authenticated', 'and leaves no setting behind')
      t.equal(clean.rows[0].claims, '')
      const updated = await db.queryIn('update public.tx_probe set note = $1 where note is not null', ['y'], {})
      t.equal(updated.rowCount, 1, 'rowCount counts changed rows')
      const fallback = await db.queryIn<any>('select $1::jsonb as doc, $2::text as nul_free', [{ a: "it's" }, 'x'], { settings })
      t.same(fallback.rows[0].doc, { a: "it's" }, 'a parameter that is not written as a literal keeps its parameter')
    })

    t.test('ping', async (t) => {
      await t.resolves(db.ping())
    })
  })
}

t.test('inlineParameters writes parameters as literals and leaves quoted text alone', async (t) => {
  t.equal(inlineParameters('select $1, $2, $10', ['a', 2, false, 4, 5, 6, 7, 8, 9, null]), "select E'a', E'2', NULL")
  t.equal(inlineParameters(`select '$1', "$1", $1`, ["it's \\"]), `select '$1', "$1", E'it''s \\\\'`)
  t.equal(inlineParameters('select $1::uuid', [undefined]), 'select NULL::uuid')
  t.equal(inlineParameters('select $2', ['a']), undefined, 'a placeholder without its parameter')
  t.equal(inlineParameters('select $1', ['a\0b']), undefined, 'NUL, which no literal holds')
  t.equal(inlineParameters('select $1', [{ a: 1 }]), undefined, 'objects keep their parameter')
  t.equal(inlineParameters('select $1', [Number.NaN]), undefined)
  t.equal(inlineParameters("select 'open", []), undefined, 'an unterminated quote')
})

t.test('openDatabase opens PGlite in DATA_DIR and migrates it; reopening keeps the data', async (t) => {
  const dataDir = tempDir()
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  mkdirSync(dataDir, { recursive: true })
  const first = await openDatabase({ dataDir, databaseUrl: undefined })
  t.equal(first.kind, 'pglite')
  t.same(await recorded(first), listMigrations().map((m) => m.name))
  await first.query("insert into embedded_auth.users (id, email) values (gen_random_uuid(), 'kept@example.com')")
  await first.close()
  await t.rejects(first.ping(), 'a closed database does not answer')

  const second = await openDatabase({ dataDir, databaseUrl: undefined })
  t.teardown(() => second.close())
  t.equal((await second.query('select email from embedded_auth.users')).rows[0]?.email, 'kept@example.com', 'the data is still there')
})

const postgresUrl = process.env.TEST_DATABASE_URL
t.test('instances migrating one PostgreSQL database at once', { skip: postgresUrl ? false : 'no TEST_DATABASE_URL (run through npm test)' }, async (t) => {
  const postgres = backends().find((b) => b.name === 'postgres')!
  for (let round = 0; round < 3; round++) {
    const store = await postgres.create()
    const others = await Promise.all(Array.from({ length: 7 }, () => openPostgres(store.url!)))
    try {
      const results = await Promise.all([store.db, ...others].map((db) => migrate(db)))
      const all = listMigrations().map((m) => m.name)
      t.same(results.flat().sort(), all, `round ${round + 1}: eight at once, every migration applied exactly once between them`)
      t.same(await recorded(store.db), all)
    } finally {
      await Promise.all(others.map((db) => db.close()))
      await store.dispose()
    }
  }
})

t.test('the embedded database folder is claimed by one process at a time', async (t) => {
  const dataDir = tempDir()
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const dir = join(dataDir, 'pgdata')
  const lockFile = `${dir}.lock`

  const db = await openPglite(dir)
  t.equal(readFileSync(lockFile, 'utf8').split('\n')[0], String(process.pid), 'an open database names its process')
  await db.close()
  t.notOk(existsSync(lockFile), 'closing releases it')

  // The test runner: a live process, recorded as a server records itself.
  const table = procTable()
  writeFileSync(lockFile, formatHolder({ pid: process.ppid, startTime: table.info(process.ppid)?.startTime, bootId: table.bootId() }))
  await t.rejects(openPglite(dir), DatabaseInUseError, 'a live other process keeps it')
  await t.rejects(openPglite(dir), /in use by process \d+.*set DATABASE_URL/, 'with a message that says what to do')

  const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' })
  writeFileSync(lockFile, gone.stdout)
  const taken = await openPglite(dir)
  t.equal(readFileSync(lockFile, 'utf8').split('\n')[0], String(process.pid), 'a lock left by a process that is gone is taken over')
  await taken.close()
})
