import type { Db } from '../../src/db/db.ts'

/** The credentials a run has seen, by what they are, to search logs and tables for. */
export class SecretLedger {
  readonly secrets = new Map<string, string>()

  keep(what: string, value: string | null | undefined) {
    if (!value) throw new Error(`${what}: nothing to keep`)
    this.secrets.set(what, value)
    // A JWT's signature is its unguessable part; a logged fragment of it counts too.
    if (value.split('.').length === 3) this.secrets.set(`${what} (signature)`, value.split('.')[2]!)
  }

  /** What of the credentials `text` contains, by name. */
  foundIn(text: string): string[] {
    return [...this.secrets].filter(([, value]) => text.includes(value)).map(([what]) => what)
  }

  /** What of the credentials any row of any table of `schemas` holds in the clear, by name. */
  async storedInTheClear(db: Db, schemas: string[]): Promise<string[]> {
    return this.foundIn(await everyRow(db, schemas))
  }
}

/**
 * Every row of every table of `schemas` as text: taken at a moment of a run, it can be
 * searched later for credentials seen only afterwards.
 */
export async function everyRow(db: Db, schemas: string[]): Promise<string> {
  const tables = await db.query<{ table_schema: string; table_name: string }>(
    'select table_schema, table_name from information_schema.tables where table_schema = any($1)',
    [schemas],
  )
  let stored = ''
  for (const { table_schema, table_name } of tables.rows) stored += JSON.stringify((await db.query(`select * from ${table_schema}.${table_name}`)).rows)
  return stored
}
