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
    return escapedLiteral(value)
  }
  return `select ${Object.entries(settings).map(([name, value]) => `set_config(${literal(name)}, ${literal(value)}, true)`).join(', ')}`
}

const escapedLiteral = (value: string) => `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`

/**
 * The text a parameter travels as, or undefined for values this module does not write as
 * literals (objects, arrays, strings holding NUL): their statements keep their parameters.
 */
function parameterText(value: unknown): string | null | undefined {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return value.includes('\0') ? undefined : value
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value)
  return undefined
}

/**
 * `sql` with its `$n` placeholders replaced by quoted literals of `params`, for the simple
 * protocol (which takes several statements in one message, but no parameters). A quoted
 * literal has no type of its own, so PostgreSQL infers it from its place in the statement
 * exactly as it infers an untyped parameter: the statement means the same. The statements
 * are this server's own templates (no comments, no dollar quoting); quoted text in them is
 * skipped. Undefined when a parameter cannot be written as a literal.
 */
export function inlineParameters(sql: string, params: readonly unknown[]): string | undefined {
  const texts = params.map(parameterText)
  if (texts.includes(undefined)) return undefined
  let out = ''
  let quote: string | undefined
  for (let i = 0; i < sql.length; i++) {
    const char = sql[i]!
    if (quote) {
      if (char === quote) quote = undefined
    } else if (char === "'" || char === '"') {
      quote = char
    } else if (char === '$' && /\d/.test(sql[i + 1] ?? '')) {
      let end = i + 1
      while (/\d/.test(sql[end] ?? '')) end++
      const index = Number(sql.slice(i + 1, end)) - 1
      if (index < 0 || index >= texts.length) return undefined
      const text = texts[index]
      out += text === null ? 'NULL' : escapedLiteral(text!)
      i = end - 1
      continue
    }
    out += char
  }
  return quote ? undefined : out
}

/**
 * One simple-protocol script for `queryIn`: the settings (if any) and `sql` with its
 * parameters written as literals, or undefined when they cannot be (the caller then runs the
 * statement in a transaction of its own).
 */
export function oneCallScript(sql: string, params: readonly unknown[], settings: Record<string, string> | undefined): string | undefined {
  const inlined = inlineParameters(sql, params)
  if (inlined === undefined || !settings) return inlined
  return `${setLocalStatement(settings)}; ${inlined}`
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
  /**
   * One statement in a transaction of its own with `settings` set for it, sent in one call to
   * the database (the settings and the statement as one simple-protocol message, which runs
   * as one implicit transaction) where its parameters can be written as literals; otherwise
   * as `transaction` would run it.
   */
  queryIn<Row = Record<string, any>>(sql: string, params: unknown[], options: TransactionOptions): Promise<QueryResult<Row>>
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
