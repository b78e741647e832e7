import { mkdirSync } from 'node:fs'
import { PGlite, type Transaction } from '@electric-sql/pglite'
import { DatabaseUnavailableError, type Db, type Queryable, type QueryResult } from './db.ts'

/** A closed PGlite is an unavailable database (503), not a bad statement (500). */
function translate(pg: PGlite) {
  return (error: unknown): never => {
    throw pg.closed ? new DatabaseUnavailableError(error) : error
  }
}

function wrap(pg: PGlite, target: PGlite | Transaction): Queryable {
  return {
    async query<Row>(sql: string, params: unknown[] = []): Promise<QueryResult<Row>> {
      const result = await target.query<Row>(sql, params as any[]).catch(translate(pg))
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length }
    },
    async exec(sql: string) {
      await target.exec(sql).catch(translate(pg))
    },
  }
}

/** The embedded database: PostgreSQL compiled to WebAssembly, persisted in `dir`. */
export async function openPglite(dir: string | undefined): Promise<Db> {
  if (dir) mkdirSync(dir, { recursive: true })
  const pg = dir ? new PGlite(dir) : new PGlite()
  await pg.waitReady
  const root = wrap(pg, pg)
  return {
    kind: 'pglite',
    query: root.query,
    exec: root.exec,
    transaction: (work) => pg.transaction((tx) => work(wrap(pg, tx))).catch(translate(pg)),
    async ping() {
      await root.query('select 1')
    },
    async close() {
      if (!pg.closed) await pg.close()
    },
  }
}
