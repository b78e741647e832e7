/** What every caller of the database sees; PGlite and `pg` both sit behind it. */
export interface Queryable {
  query<Row = Record<string, any>>(sql: string, params?: unknown[]): Promise<QueryResult<Row>>
  /** Runs a script of several statements with no parameters (migrations). */
  exec(sql: string): Promise<void>
}

export interface QueryResult<Row> {
  rows: Row[]
  rowCount: number
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres'
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>
  close(): Promise<void>
}

/** Raised when the database cannot be reached; routes turn it into 503 rather than 500. */
export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super('database unavailable', { cause })
    this.name = 'DatabaseUnavailableError'
  }
}
