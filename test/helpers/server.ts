import { loadConfig, type Config } from '../../src/config.ts'
import { migrate } from '../../src/db/migrate.ts'
import type { AppDeps } from '../../src/app.ts'
import { startServer, type RunningServer } from '../../src/server.ts'
import { freePort } from '../../scripts/lib/ports.ts'
import type { Backend } from './backends.ts'

export interface TestServer extends RunningServer {
  config: Config
  anonKey: string
  /** Stops the server and removes its database and data folder. */
  dispose(): Promise<void>
}

/**
 * A real server listening on a free loopback port, over a fresh database of `backend`.
 * `env` is read like the process environment (legacy aliases included); `deps` adds parts
 * of the app (such as an auth mode), optionally built from the final config.
 */
export async function startTestServer(
  backend: Backend,
  env: Record<string, string> = {},
  deps: Partial<AppDeps> | ((config: Config) => Partial<AppDeps>) = {},
): Promise<TestServer> {
  const store = await backend.create()
  await migrate(store.db)
  // The public URL has to name the port, so reserve it first and pass it in.
  const port = await freePort()
  const config = loadConfig({ HOST: '127.0.0.1', PORT: String(port), DATA_DIR: store.dataDir, LOG_LEVEL: 'silent', ...env }, {})
  const server = await startServer(config, { ...(typeof deps === 'function' ? deps(config) : deps), db: store.db })
  return {
    ...server,
    config,
    anonKey: config.effectiveAnonKey,
    async dispose() {
      await server.close()
      await store.dispose()
    },
  }
}
