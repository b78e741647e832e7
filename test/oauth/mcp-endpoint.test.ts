import t from 'tap'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { buildApp } from '../../src/app.ts'
import { AuthError, InvalidTokenError } from '../../src/auth/errors.ts'
import { loadConfig } from '../../src/config.ts'
import { migrate } from '../../src/db/migrate.ts'
import { bearerChallenge, createOAuthMode } from '../../src/oauth/index.ts'
import { freePort } from '../../scripts/lib/ports.ts'
import { backends } from '../helpers/backends.ts'
import { signUp, TestOAuthProvider } from './helpers.ts'

/**
 * The oauth mode from the MCP endpoint's side: a bare /mcp (an SDK server with one
 * `whoami` tool) guarded the way the real endpoint is, by the mode's `authenticate` and the
 * `WWW-Authenticate` challenge. The SDK client starts from nothing but the /mcp URL.
 */
for (const backend of backends()) {
  t.test(`an MCP client reaches a protected /mcp through the oauth mode on ${backend.name}`, async (t) => {
    const store = await backend.create()
    t.teardown(() => store.dispose())
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
    await app.listen({ host: '127.0.0.1', port })
    t.teardown(() => app.close())

    const userId = await signUp({ config, anonKey: config.effectiveAnonKey }, 'tim@example.com', 'a long enough secret')
    const provider = new TestOAuthProvider({ email: 'tim@example.com', password: 'a long enough secret' })
    const url = new URL(`${config.baseUrl}/mcp`)

    let client: Client | undefined
    for (let attempt = 0; attempt < 2 && !client; attempt++) {
      const candidate = new Client({ name: 'probe-client', version: '1.0.0' })
      try {
        await candidate.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }))
        client = candidate
      } catch (error) {
        if (!(error instanceof UnauthorizedError) || !provider.pendingCode) throw error
        const code = provider.pendingCode
        provider.pendingCode = undefined
        await new StreamableHTTPClientTransport(url, { authProvider: provider }).finishAuth(code)
      }
    }
    t.ok(client, 'the client connected after signing in')
    t.equal(challenges[0], `Bearer resource_metadata="${config.baseUrl}/.well-known/oauth-protected-resource/mcp", scope="openid email profile"`, 'the first 401 pointed it at the metadata')
    const result: any = await client!.callTool({ name: 'whoami', arguments: {} })
    t.same(JSON.parse(result.content[0].text), { id: userId, email: 'tim@example.com', mode: 'oauth' }, 'tools/call whoami returns the signed-in user')
    await client!.close()
  })
}
