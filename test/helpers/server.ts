import type { Writable } from 'node:stream'
import type { FastifyPluginAsync } from 'fastify'
import { loadConfig, type Config } from '../../src/config.ts'
import { loggerOptions } from '../../src/log.ts'
import { migrate } from '../../src/db/migrate.ts'
import type { AppDeps } from '../../src/app.ts'
import { startServer, type RunningServer } from '../../src/server.ts'
import { freePort } from '../../scripts/lib/ports.ts'
import type { Backend } from './backends.ts'

export interface TestServer extends RunningServer {
  config: Config
  anonKey: string
  /** The embedded auth's service-role key (undefined with SUPABASE_URL). */
  serviceRoleKey: string | undefined
  /** Stops the server and removes its database and data folder. */
  dispose(): Promise<void>
}

export interface TestServerOptions extends Partial<Omit<AppDeps, 'db' | 'logger'>> {
  /** Routes behind the auth hook (`AppDeps.extraRoutes`). */
  extraRoutes?: FastifyPluginAsync
  /** Receives the server's log lines (JSON, with the production redaction) at `LOG_LEVEL`. */
  logStream?: Writable
}

/**
 * A real server listening on a free loopback port, over a fresh database of `backend`.
 * `env` is read like the process environment (legacy aliases included); `deps` adds parts
 * of the app (such as an auth mode), optionally built from the final config.
 */
export async function startTestServer(
  backend: Backend,
  env: Record<string, string> = {},
  options: TestServerOptions | ((config: Config) => TestServerOptions) = {},
): Promise<TestServer> {
  const store = await backend.create({ migrated: true })
  await migrate(store.db)
  // The public URL has to name the port, so reserve it first and pass it in.
  const port = await freePort()
  // Tests sign in from one loopback address far faster than people do; a test of the
  // password-attempt limit sets LOGIN_RATE_LIMIT_MAX itself.
  const config = loadConfig({ HOST: '127.0.0.1', PORT: String(port), DATA_DIR: store.dataDir, LOG_LEVEL: 'silent', LOGIN_RATE_LIMIT_MAX: '100000', ...env }, {})
  const { logStream, ...deps } = typeof options === 'function' ? options(config) : options
  const logger = logStream ? { ...(loggerOptions(config) as object), stream: logStream } : undefined
  const server = await startServer(config, { ...deps, ...(logger ? { logger } : {}), db: store.db })
  return {
    ...server,
    config,
    anonKey: config.effectiveAnonKey,
    serviceRoleKey: server.app.embeddedAuthServiceRoleKey,
    async dispose() {
      await server.close()
      await store.dispose()
    },
  }
}
