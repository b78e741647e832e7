import { mkdirSync } from 'node:fs'
import { PGlite, type Transaction } from '@electric-sql/pglite'
import type { Db, Queryable, QueryResult } from './db.ts'

function wrap(target: PGlite | Transaction): Queryable {
  return {
    async query<Row>(sql: string, params: unknown[] = []): Promise<QueryResult<Row>> {
      const result = await target.query<Row>(sql, params as any[])
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length }
    },
    async exec(sql: string) {
      await target.exec(sql)
    },
  }
}

/** The embedded database: PostgreSQL compiled to WebAssembly, persisted in `dir`. */
export async function openPglite(dir: string | undefined): Promise<Db> {
  if (dir) mkdirSync(dir, { recursive: true })
  const pg = dir ? new PGlite(dir) : new PGlite()
  await pg.waitReady
  const root = wrap(pg)
  return {
    kind: 'pglite',
    query: root.query,
    exec: root.exec,
    transaction: (work) => pg.transaction((tx) => work(wrap(tx))),
    async ping() {
      await pg.query('select 1')
    },
    async close() {
      if (!pg.closed) await pg.close()
    },
  }
}
