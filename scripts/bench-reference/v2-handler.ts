/**
 * The second reference line of the benchmark: the SDK's v2 documented way (`createMcpHandler`
 * with a per-request server factory, mounted on `node:http` with `toNodeHandler`), serving
 * the same `whoami` tool with the same JWT check (jose against the same JWKS) in both eras:
 * 2026-07-28 from the factory, 2025 through the handler's stateless fallback. Started by
 * scripts/bench.ts as its own process.
 */
import http from 'node:http'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { createMcpHandler, McpServer, type AuthInfo } from '@modelcontextprotocol/server'
import { toNodeHandler } from '@modelcontextprotocol/node'

const port = Number(process.env.PORT)
const jwks = createRemoteJWKSet(new URL(process.env.JWKS_URL!))
const issuer = process.env.JWT_ISSUER!

async function verify(header: string | undefined): Promise<AuthInfo | undefined> {
  const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined
  if (!token) return undefined
  try {
    const { payload } = await jwtVerify(token, jwks, { issuer, audience: 'authenticated' })
    return { token, clientId: 'reference', scopes: [], expiresAt: payload.exp, extra: { sub: payload.sub, email: payload.email } }
  } catch {
    return undefined
  }
}

function buildServer() {
  const server = new McpServer({ name: 'reference-v2', version: '1.0.0' })
  server.registerTool('whoami', { description: 'The caller' }, async (ctx) => ({
    content: [{ type: 'text', text: JSON.stringify(ctx.http?.authInfo?.extra ?? {}) }],
  }))
  return server
}

const handler = toNodeHandler(createMcpHandler(buildServer))

http
  .createServer(async (req, res) => {
    if (req.url === '/ready') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}')
    const auth = await verify(req.headers.authorization)
    if (!auth) return void res.writeHead(401, { 'www-authenticate': 'Bearer' }).end()
    Object.assign(req, { auth })
    await handler(req, res)
  })
  .listen(port, '127.0.0.1')
