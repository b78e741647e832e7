import type { FastifyInstance } from 'fastify'
import { buildApp, type AppDeps } from './app.ts'
import { urlHostFor, type Config } from './config.ts'
import type { Db } from './db/db.ts'
import { join } from 'node:path'
import { createsEmbeddedDatabase, openDatabase, type Notice } from './db/open.ts'
import { listenWhileStarting, type StartingListener } from './http/while-starting.ts'
import { withoutTrailingSlashes } from './http/trailing-slashes.ts'

export interface RunningServer {
  app: FastifyInstance
  db: Db
  /** The URL it actually listens on (the port is known even when 0 was asked for). */
  url: string
  close(): Promise<void>
}

/**
 * Where this server answers on this machine (its port, BASE_URL's path), for the commands that
 * go through it while it holds the embedded database: their own BASE_URL may name another port,
 * where another program could receive their keys and tokens.
 */
function localUrl(config: Config): string | undefined {
  if (!config.port) return undefined
  return `http://${urlHostFor(config.host)}:${config.port}${withoutTrailingSlashes(new URL(config.baseUrl).pathname)}`
}

/** Opens the database, builds the app and listens: what `npm start` and end-to-end tests share. */
export async function startServer(config: Config, deps: Partial<AppDeps> = {}, options: { notice?: Notice } = {}): Promise<RunningServer> {
  const notice = options.notice ?? (() => {})
  let placeholder: StartingListener | undefined
  if (!deps.db && createsEmbeddedDatabase(config)) {
    placeholder = await listenWhileStarting(config.host, config.port, 'creating the embedded database, first start only')
    notice(`creating the embedded database in ${join(config.dataDir, 'pgdata')} (first start only, about 10 s); /health answers meanwhile`)
  }
  let db: Db | undefined
  let app: FastifyInstance
  try {
    db = deps.db ?? (await openDatabase(config, notice, localUrl(config)))
    app = await buildApp(config, { ...deps, db })
    // Bound beside the placeholder before it lets go of the port.
    await listenQuietly(app, config, placeholder && { port: placeholder.port, reusePort: true })
  } catch (error) {
    if (!deps.db) await db?.close().catch(() => {})
    throw error
  } finally {
    await placeholder?.close()
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  let closing: Promise<void> | undefined
  return {
    app,
    db,
    url: `http://${config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host}:${port}`,
    close() {
      closing ??= (async () => {
        // Keep-alive connections still busy when closing begins go idle one by one later;
        // each is closed as it does, or it would hold the shutdown until its timeout.
        const sweep = setInterval(() => app.server.closeIdleConnections(), 50)
        try {
          await app.close()
        } finally {
          clearInterval(sweep)
        }
        if (!deps.db) await db.close()
      })()
      return closing
    },
  }
}

/**
 * Listens without Fastify's one JSON line per bound address: the start-up banner says
 * where the server is in plain words, and it should be the first thing a newcomer reads.
 */
async function listenQuietly(app: FastifyInstance, config: Config, beside?: { port: number; reusePort: true }) {
  const level = app.log.level
  if (['info', 'debug', 'trace'].includes(level)) app.log.level = 'warn'
  try {
    await app.listen({ host: config.host, port: config.port, ...beside })
  } finally {
    app.log.level = level
  }
}
