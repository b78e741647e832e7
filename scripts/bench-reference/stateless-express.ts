/**
 * The reference line of the benchmark: the way most TypeScript MCP servers are written, per
 * the SDK's documented stateless pattern (Express, `requireBearerAuth`, a new `McpServer` and
 * `StreamableHTTPServerTransport` for every request), serving the same `whoami` tool with the
 * same JWT check (jose against the same JWKS). Started by scripts/bench.ts as its own process.
 */
import express from 'express'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'

const port = Number(process.env.PORT)
const jwks = createRemoteJWKSet(new URL(process.env.JWKS_URL!))
const issuer = process.env.JWT_ISSUER!

const verifier = {
  async verifyAccessToken(token: string): Promise<AuthInfo> {
    const { payload } = await jwtVerify(token, jwks, { issuer, audience: 'authenticated' })
    return { token, clientId: 'reference', scopes: [], expiresAt: payload.exp, extra: { sub: payload.sub, email: payload.email } }
  },
}

function buildServer() {
  const server = new McpServer({ name: 'reference', version: '1.0.0' })
  server.registerTool('whoami', { description: 'The caller' }, async (extra) => ({
    content: [{ type: 'text', text: JSON.stringify(extra.authInfo?.extra ?? {}) }],
  }))
  return server
}

const app = express()
app.use(express.json())
app.post('/mcp', requireBearerAuth({ verifier }), async (req, res) => {
  const server = buildServer()
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
  res.on('close', () => {
    transport.close()
    server.close()
  })
  await server.connect(transport)
  await transport.handleRequest(req, res, req.body)
})
app.get('/ready', (_req, res) => res.json({ status: 'ready' }))
app.listen(port, '127.0.0.1')
