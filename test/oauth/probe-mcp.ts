import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import { migrate } from '../../src/db/migrate.ts'
import { freePort } from '../../scripts/lib/ports.ts'
import type { Backend } from '../helpers/backends.ts'

export interface ProbeServer {
  config: Config
  app: FastifyInstance
  /** Every WWW-Authenticate challenge /mcp sent, in order. */
  challenges: string[]
  dispose(): Promise<void>
}

/** The server in oauth mode, its real /mcp included, recording the challenges /mcp sends. */
export async function startProbeServer(backend: Backend): Promise<ProbeServer> {
  const store = await backend.create()
  await migrate(store.db)
  const port = await freePort()
  const config = loadConfig({ HOST: '127.0.0.1', PORT: String(port), DATA_DIR: store.dataDir, LOG_LEVEL: 'silent', AUTH_MODE: 'oauth' }, {})
  const app = await buildApp(config, { db: store.db })
  const challenges: string[] = []
  app.addHook('onSend', async (request, reply) => {
    const challenge = reply.getHeader('www-authenticate')
    if (request.url.split('?')[0] === '/mcp' && typeof challenge === 'string') challenges.push(challenge)
  })
  await app.listen({ host: '127.0.0.1', port })
  return {
    config,
    app,
    challenges,
    async dispose() {
      await app.close()
      await store.dispose()
    },
  }
}
