import pg from 'pg'
import { DatabaseUnavailableError, oneCallScript, setLocalStatement, type Db, type Queryable, type QueryResult } from './db.ts'

// Codes that mean "the server is not there", as opposed to a bad statement.
const UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', '57P01', '57P02', '57P03', '53300'])

function translate(error: any): never {
  if (UNAVAILABLE.has(error?.code) || /Connection terminated|timeout exceeded when trying to connect|Cannot use a pool after calling end|encountered a connection error and is not queryable/i.test(error?.message ?? '')) {
    throw new DatabaseUnavailableError(error)
  }
  throw error
}

/** Distinct statements given a name; the SQL is built from a bounded set of templates, so this is a guard, not a working limit. */
const MAX_NAMED_STATEMENTS = 1000

/**
 * Names for parameterised statements: a named statement is parsed and planned once per
 * connection and then only bound and executed, where an unnamed one is parsed and planned on
 * every call (the entity queries carry row-level security policies, so planning is not free).
 */
interface StatementNames {
  nameOf(sql: string): string | undefined
  /** Stops naming `sql`, whose prepared form went stale. */
  forget(sql: string): void
}

function statementNames(): StatementNames {
  // null: a statement that is no longer named.
  const names = new Map<string, string | null>()
  return {
    nameOf(sql) {
      let name = names.get(sql)
      if (name === undefined && names.size < MAX_NAMED_STATEMENTS) {
        name = `atoms_${names.size}`
        names.set(sql, name)
      }
      return name ?? undefined
    },
    forget: (sql) => void names.set(sql, null),
  }
}

// A prepared `select *` whose table gained a column (a migration run by a newer instance)
// can no longer run on the connections that prepared it.
const isStalePlan = (error: any) => error?.code === '0A000' && /cached plan must not change result type/.test(error?.message ?? '')

function wrap(target: pg.Pool | pg.PoolClient, names: StatementNames | undefined): Queryable {
  return {
    async query<Row>(sql: string, params: unknown[] = []): Promise<QueryResult<Row>> {
      const name = names?.nameOf(sql)
      const result = await (name ? target.query({ name, text: sql, values: params }) : target.query(sql, params)).catch((error) => {
        // Unnamed from now on; outside a transaction the call itself is tried again, inside
        // one the transaction has already failed and its caller sees the error.
        if (name && isStalePlan(error)) {
          names!.forget(sql)
          if (!('release' in target)) return target.query(sql, params)
        }
        throw error
      }).catch(translate)
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length }
    },
    async exec(sql: string) {
      await target.query(sql).catch(translate)
    },
  }
}

/** A pooled connection to any PostgreSQL server, for `DATABASE_URL`. */
export async function openPostgres(connectionString: string, options: { max?: number; preparedStatements?: boolean } = {}): Promise<Db> {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
  })
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {})
  const names = options.preparedStatements === false ? undefined : statementNames()
  const root = wrap(pool, names)
  const db: Db = {
    kind: 'postgres',
    query: root.query,
    exec: root.exec,
    async queryIn<Row>(sql: string, params: unknown[], options: { settings?: Record<string, string> }): Promise<QueryResult<Row>> {
      const script = oneCallScript(sql, params, options.settings)
      if (script === undefined) return db.transaction((tx) => tx.query<Row>(sql, params), options)
      // A failing statement rolls the implicit transaction back by itself: the connection goes
      // back to the pool clean, settings included.
      const results = (await pool.query(script).catch(translate)) as unknown as pg.QueryResult[] | pg.QueryResult
      const result = Array.isArray(results) ? results.at(-1)! : results
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length }
    },
    async transaction(work, options) {
      const client = await pool.connect().catch(translate)
      // A checked-out client whose server goes away emits 'error', which would end the
      // process without a listener; the statement in progress fails on its own.
      let lost: Error | undefined
      const onLost = (error: Error) => (lost = error)
      client.on('error', onLost)
      const session = wrap(client, names)
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
  return db
}
