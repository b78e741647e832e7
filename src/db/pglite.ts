import { mkdirSync } from 'node:fs'
import { PGlite, type Results, type Transaction } from '@electric-sql/pglite'
import { acquireLock, LockHeldError } from './folder-lock.ts'
import { DatabaseUnavailableError, inlineParameters, oneCallScript, setLocalStatement, type Db, type Queryable, type QueryResult } from './db.ts'

/** A closed PGlite is an unavailable database (503), not a bad statement (500). */
function translate(pg: PGlite) {
  return (error: unknown): never => {
    throw pg.closed ? new DatabaseUnavailableError(error) : error
  }
}

const resultOf = <Row>(result: Results<unknown>): QueryResult<Row> => ({ rows: result.rows as Row[], rowCount: result.affectedRows ?? result.rows.length })

function wrap(pg: PGlite, target: PGlite | Transaction): Queryable {
  return {
    async query<Row>(sql: string, params: unknown[] = []): Promise<QueryResult<Row>> {
      return resultOf(await target.query<Row>(sql, params as any[]).catch(translate(pg)))
    },
    async exec(sql: string) {
      await target.exec(sql).catch(translate(pg))
    },
  }
}

/**
 * The statements of a transaction with settings (the tools' work as a user), sent as
 * simple-protocol statements with their parameters written as literals: one call into the
 * database each, where PGlite spends two on a parameterised one (it describes it before it
 * binds it). The settings go with the first statement.
 */
function literalSession(pg: PGlite, tx: Transaction, settings: string): Queryable {
  let pending: string | undefined = settings
  const withSettings = (sql: string) => {
    const script = pending ? `${pending}; ${sql}` : sql
    pending = undefined
    return script
  }
  const exec = (sql: string) => tx.exec(withSettings(sql)).catch(translate(pg))
  return {
    async query<Row>(sql: string, params: unknown[] = []): Promise<QueryResult<Row>> {
      const inlined = inlineParameters(sql, params)
      if (inlined === undefined) {
        if (pending) await exec('')
        return resultOf(await tx.query<Row>(sql, params as any[]).catch(translate(pg)))
      }
      return resultOf((await exec(inlined)).at(-1)!)
    },
    async exec(sql: string) {
      await exec(sql)
    },
  }
}

/** The embedded database folder is already open in another live process. */
export class DatabaseInUseError extends Error {
  /** Where the holder answers, when it recorded that (a server does). */
  readonly serverUrl: string | undefined
  constructor(dir: string, pid: number, serverUrl?: string) {
    super(
      `the embedded database in ${dir} is in use by process ${pid} (a running atoms-mcp?); ` +
        // A lock whose process is gone, or is another program now, is taken over on its own:
        // this is said only of a live server, whose lock must not be deleted.
        `stop it first, or set DATABASE_URL to share a PostgreSQL server`,
    )
    this.name = 'DatabaseInUseError'
    this.serverUrl = serverUrl
  }
}

/**
 * PGlite is one process's database: a second process opening the same folder would
 * corrupt it, so the folder is claimed with a lock file naming the owner. A lock whose
 * holder is gone, a zombie, or a pid since given to another process is taken over, so that
 * a server killed without warning always comes back on its own.
 */
async function claim(dir: string, notice: (line: string) => void, url: string | undefined): Promise<() => void> {
  const lockFile = `${dir}.lock`
  // A holder killed a moment ago may still be tearing its memory down; it is given a second to go.
  for (let waited = 0; ; waited += 100) {
    try {
      const lock = acquireLock(lockFile, undefined, url)
      if (lock.tookOver) notice(`took over the stale lock of the embedded database in ${dir}: it named process ${lock.tookOver.holder.pid}, and ${lock.tookOver.reason}`)
      return lock.release
    } catch (error) {
      if (!(error instanceof LockHeldError)) throw error
      if (waited >= 1000) throw new DatabaseInUseError(dir, error.holder.pid, error.holder.url)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/**
 * PostgreSQL's default 128 MB of shared buffers lives inside this process's WebAssembly memory,
 * which never shrinks; the embedded database holds one deployment's entities and sessions, and
 * the files under it stay in the operating system's cache either way.
 */
const EMBEDDED_SETTINGS = ['shared_buffers=16MB']

/** The embedded database: PostgreSQL compiled to WebAssembly, persisted in `dir`. */
export async function openPglite(dir: string | undefined, options: { notice?: (line: string) => void; serves?: string } = {}): Promise<Db> {
  if (dir) mkdirSync(dir, { recursive: true })
  const release = dir ? await claim(dir, options.notice ?? (() => {}), options.serves) : () => {}
  let pg: PGlite
  try {
    pg = new PGlite(dir, { postgresqlconf: EMBEDDED_SETTINGS })
    await pg.waitReady
  } catch (error) {
    release()
    throw error
  }
  const root = wrap(pg, pg)
  const db: Db = {
    kind: 'pglite',
    query: root.query,
    exec: root.exec,
    async queryIn<Row>(sql: string, params: unknown[], options: { settings?: Record<string, string> }): Promise<QueryResult<Row>> {
      const script = oneCallScript(sql, params, options.settings)
      if (script === undefined) return db.transaction((tx) => tx.query<Row>(sql, params), options)
      // One call into the database where a transaction is four, and a parameterised
      // statement two more (PGlite describes it before it binds it).
      return resultOf((await pg.exec(script).catch(translate(pg))).at(-1)!)
    },
    transaction: (work, options) =>
      pg.transaction((tx) => work(options?.settings ? literalSession(pg, tx, setLocalStatement(options.settings)) : wrap(pg, tx))).catch(translate(pg)),
    async ping() {
      await root.query('select 1')
    },
    async close() {
      if (pg.closed) return
      await pg.close()
      release()
    },
  }
  return db
}
