import { join } from 'node:path'
import type { Config } from '../config.ts'
import type { Db } from './db.ts'
import { migrate } from './migrate.ts'
import { openPglite } from './pglite.ts'
import { openPostgres } from './postgres.ts'
import { isNewEmbeddedFolder, prepareInChildProcess } from './prepare-embedded.ts'

/** What start-up says to the operator while it works (a stale lock taken over, a first start). */
export type Notice = (line: string) => void

/** True when opening will first create the embedded database (seconds of work, first start only). */
export const createsEmbeddedDatabase = (config: Pick<Config, 'databaseUrl' | 'dataDir'>) => !config.databaseUrl && isNewEmbeddedFolder(join(config.dataDir, 'pgdata'))

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir'> & Partial<Pick<Config, 'databasePreparedStatements'>>,
  notice: Notice = () => {},
  /** Where the server opening it answers, recorded in the embedded database's lock. */
  serves?: string,
): Promise<Db> {
  const embeddedDir = join(config.dataDir, 'pgdata')
  if (!config.databaseUrl && isNewEmbeddedFolder(embeddedDir)) await prepareInChildProcess(embeddedDir)
  const db = config.databaseUrl ? await openPostgres(config.databaseUrl, { preparedStatements: config.databasePreparedStatements }) : await openPglite(embeddedDir, { notice, serves })
  try {
    await migrate(db)
  } catch (error) {
    await db.close().catch(() => {})
    throw error
  }
  return db
}
