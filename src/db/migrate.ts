import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Db } from './db.ts'

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url))
// Any constant works; it only has to be the same for every instance sharing a database.
const MIGRATION_LOCK_KEY = 7_262_017

export interface Migration {
  name: string
  sql: string
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d{4}_[\w-]+\.sql$/.test(file))
    .sort()
    .map((name) => ({ name, sql: readFileSync(dir + name, 'utf8') }))
}

/**
 * Applies the migrations not yet recorded, in name order, all in one transaction: a run
 * that fails leaves the database as it was. The advisory lock is taken before anything
 * else (even creating the record table, which two sessions cannot do at once), so several
 * instances can start against one database together.
 */
export async function migrate(db: Db, migrations = listMigrations()): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY])
    await tx.exec(`create table if not exists public.atoms_migrations (
      name text primary key,
      applied_at timestamptz not null default now()
    )`)
    const done = new Set((await tx.query<{ name: string }>('select name from public.atoms_migrations')).rows.map((r) => r.name))
    const applied: string[] = []
    for (const migration of migrations) {
      if (done.has(migration.name)) continue
      await tx.exec(migration.sql)
      await tx.query('insert into public.atoms_migrations (name) values ($1)', [migration.name])
      applied.push(migration.name)
    }
    return applied
  })
}
