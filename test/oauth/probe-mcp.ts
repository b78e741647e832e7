import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { buildApp } from '../../src/app.ts'
import { AuthError, InvalidTokenError } from '../../src/auth/errors.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import { migrate } from '../../src/db/migrate.ts'
import { bearerChallenge, createOAuthMode } from '../../src/oauth/index.ts'
import { freePort } from '../../scripts/lib/ports.ts'
import type { Backend } from '../helpers/backends.ts'

export interface ProbeServer {
  config: Config
  app: FastifyInstance
  /** Every WWW-Authenticate challenge /mcp sent, in order. */
  challenges: string[]
  dispose(): Promise<void>
}

/**
 * The server in oauth mode plus a bare /mcp (an SDK server with one `whoami` tool) guarded
 * the way the real endpoint is: the mode's `authenticate`, and on refusal the mode's
 * `WWW-Authenticate` challenge. Stateless, a new MCP server per request.
 */
export async function startProbeServer(backend: Backend): Promise<ProbeServer> {
  const store = await backend.create()
  await migrate(store.db)
  const port = await freePort()
  const config = loadConfig({ HOST: '127.0.0.1', PORT: String(port), DATA_DIR: store.dataDir, LOG_LEVEL: 'silent', AUTH_MODE: 'oauth' }, {})
  const app = await buildApp(config, { db: store.db })
  const mode = createOAuthMode({ config, db: store.db })
  const challenges: string[] = []

  app.post('/mcp', async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization
    let user
    try {
      if (!header?.startsWith('Bearer ')) throw new InvalidTokenError('no bearer token', false)
      user = await mode.authenticate(header.slice(7))
    } catch (error) {
      if (!(error instanceof AuthError)) throw error
      const challenge = bearerChallenge(config.baseUrl, error)
      challenges.push(challenge)
      return reply.code(error.status).header('www-authenticate', challenge).send({ error: error.code })
    }
    const server = new McpServer({ name: 'probe', version: '1.0.0' })
    server.registerTool('whoami', { description: 'who is calling' }, async () => ({
      content: [{ type: 'text', text: JSON.stringify({ id: user.userId, email: user.email, mode: user.mode }) }],
    }))
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    reply.hijack()
    reply.raw.on('close', () => {
      void transport.close()
      void server.close()
    })
    await server.connect(transport)
    await transport.handleRequest(request.raw, reply.raw, request.body)
  })
  // Stateless: no server-initiated stream.
  app.get('/mcp', async (_request, reply) => reply.code(405).header('allow', 'POST').send({ error: 'method_not_allowed' }))
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
