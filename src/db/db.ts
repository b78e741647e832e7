/** What every caller of the database sees; PGlite and `pg` both sit behind it. */
export interface Queryable {
  query<Row = Record<string, any>>(sql: string, params?: unknown[]): Promise<QueryResult<Row>>
  /** Runs a script of several statements with no parameters (migrations). */
  exec(sql: string): Promise<void>
}

export interface TransactionOptions {
  settings?: Record<string, string>
}

/**
 * One simple-protocol statement setting `settings` for the current transaction. Values go in
 * as escape-string literals (E'...'), which read the same whatever standard_conforming_strings
 * says; names are the caller's own constants and are quoted the same way.
 */
export function setLocalStatement(settings: Record<string, string>): string {
  const literal = (value: string) => {
    if (value.includes('\0')) throw new RangeError('a setting cannot hold a NUL character')
    return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`
  }
  return `select ${Object.entries(settings).map(([name, value]) => `set_config(${literal(name)}, ${literal(value)}, true)`).join(', ')}`
}

export interface QueryResult<Row> {
  rows: Row[]
  rowCount: number
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres'
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws.
   * `settings` are set for the transaction only (`set_config(name, value, true)`) before
   * `work` starts, in the same round trip as the transaction's start where the driver allows.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>
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
