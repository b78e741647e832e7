import pg from 'pg'
import { DatabaseUnavailableError, setLocalStatement, type Db, type Queryable, type QueryResult } from './db.ts'

// Codes that mean "the server is not there", as opposed to a bad statement.
const UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', '57P01', '57P02', '57P03', '53300'])

function translate(error: any): never {
  if (UNAVAILABLE.has(error?.code) || /Connection terminated|timeout exceeded when trying to connect|Cannot use a pool after calling end|encountered a connection error and is not queryable/i.test(error?.message ?? '')) {
    throw new DatabaseUnavailableError(error)
  }
  throw error
}

function wrap(target: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<Row>(sql: string, params: unknown[] = []): Promise<QueryResult<Row>> {
      const result = await target.query(sql, params).catch(translate)
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length }
    },
    async exec(sql: string) {
      await target.query(sql).catch(translate)
    },
  }
}

/** A pooled connection to any PostgreSQL server, for `DATABASE_URL`. */
export async function openPostgres(connectionString: string, options: { max?: number } = {}): Promise<Db> {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
  })
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {})
  const root = wrap(pool)
  return {
    kind: 'postgres',
    query: root.query,
    exec: root.exec,
    async transaction(work, options) {
      const client = await pool.connect().catch(translate)
      // A checked-out client whose server goes away emits 'error', which would end the
      // process without a listener; the statement in progress fails on its own.
      let lost: Error | undefined
      const onLost = (error: Error) => (lost = error)
      client.on('error', onLost)
      const session = wrap(client)
      try {
        // One round trip opens the transaction and sets its settings.
        await session.exec(options?.settings ? `begin; ${setLocalStatement(options.settings)}` : 'begin')
        const result = await work(session)
        await session.exec('commit')
        return result
      } catch (error) {
        await client.query('rollback').catch(() => {})
        throw error
      } finally {
        client.off('error', onLost)
        // A lost connection is destroyed rather than handed to the next caller.
        client.release(lost)
      }
    },
    async ping() {
      await root.query('select 1')
    },
    async close() {
      await pool.end()
    },
  }
}
