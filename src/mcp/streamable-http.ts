import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { LATEST_PROTOCOL_VERSION, type JSONRPCMessage, type JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js'
import type { AuthMode } from '../auth/mode.ts'
import type { UserContext } from '../auth/user-context.ts'
import { toAuthInfo } from './auth-info.ts'
import { authenticateOrRefuse } from './authenticate.ts'
import type { McpCore } from './mcp-server.ts'
import { isRequest } from './messages.ts'
import { DATABASE_UNAVAILABLE, jsonRpcError, jsonRpcErrorHandler, onlyUnavailable, openEventStream, parseMessages, requestInfoOf } from './http-common.ts'

/** The versions of the Streamable HTTP transport; the 2024-11-05 transport is at /sse. */
export const STREAMABLE_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26']

export interface StreamableHttpOptions {
  core: McpCore
  authMode: AuthMode
  baseUrl: string
}

/** Who is calling, or undefined once the request has been refused and answered. */
type Authenticate = (request: FastifyRequest, reply: FastifyReply) => Promise<UserContext | undefined>

/** A client that asks only for events, or wants progress, gets a stream; others get JSON. */
function wantsEventStream(accept: string | undefined, requests: JSONRPCRequest[]): boolean {
  if (!accept?.includes('text/event-stream')) return false
  if (!accept.includes('application/json')) return true
  return requests.some((r) => (r.params?._meta as Record<string, unknown> | undefined)?.progressToken !== undefined)
}

/** Older clients may ask for a version this transport does not speak; they get the latest. */
function negotiateVersion(message: JSONRPCMessage) {
  if (isRequest(message) && message.method === 'initialize' && message.params) {
    const requested = message.params.protocolVersion
    if (typeof requested !== 'string' || !STREAMABLE_PROTOCOL_VERSIONS.includes(requested)) message.params.protocolVersion = LATEST_PROTOCOL_VERSION
  }
}

/**
 * MCP Streamable HTTP at /mcp, stateless: every POST carries its own credentials and is
 * answered on its own, so any instance behind a load balancer can take any request.
 */
export async function streamableHttpRoutes(app: FastifyInstance, options: StreamableHttpOptions) {
  const { authMode } = options
  app.setErrorHandler(jsonRpcErrorHandler)
  app.post('/mcp', postRoute(options, (request, reply) => authenticateOrRefuse(request, reply, authMode, (refusal) => jsonRpcError(-32001, refusal.description))))

  // Stateless: no session to stream server-initiated messages on, and none to end.
  const notAllowed = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.code(405).header('allow', 'POST').send(jsonRpcError(-32000, 'Method not allowed: this server is stateless; POST JSON-RPC messages to /mcp'))
  app.get('/mcp', notAllowed)
  app.delete('/mcp', notAllowed)
}

/**
 * BENCHMARKS ONLY (`BENCH_UNAUTHENTICATED_MCP`, loopback only): `/bench/mcp` is `/mcp` with
 * no token check, every call made as `user`, so that a benchmark can tell what
 * authentication costs by comparing the two.
 */
export async function unauthenticatedBenchRoute(app: FastifyInstance, options: StreamableHttpOptions & { user: UserContext }) {
  app.setErrorHandler(jsonRpcErrorHandler)
  app.post('/bench/mcp', postRoute(options, async () => options.user))
}

const POST_SCHEMA = { body: { anyOf: [{ type: 'object' }, { type: 'array' }] } } as const

function postRoute({ core, baseUrl }: StreamableHttpOptions, authenticate: Authenticate) {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const version = request.headers['mcp-protocol-version']
    if (version !== undefined && !STREAMABLE_PROTOCOL_VERSIONS.includes(String(version))) {
      return reply.code(400).send(jsonRpcError(-32600, `Unsupported MCP-Protocol-Version ${version}; supported: ${STREAMABLE_PROTOCOL_VERSIONS.join(', ')}`))
    }
    const messages = parseMessages(request.body)
    if (!messages) return reply.code(400).send(jsonRpcError(-32600, 'Invalid Request: the body must be a JSON-RPC 2.0 message or a batch of them'))

    const user = await authenticate(request, reply)
    if (!user) return reply

    messages.forEach(negotiateVersion)
    const dispatch = { authInfo: toAuthInfo(user), requestInfo: requestInfoOf(request, baseUrl) }
    const requests = messages.filter(isRequest)
    if (requests.length === 0) {
      await Promise.all(messages.map((m) => core.dispatch(m, dispatch)))
      return reply.code(202).send()
    }

    if (!wantsEventStream(request.headers.accept, requests)) {
      const responses = (await Promise.all(messages.map((m) => core.dispatch(m, dispatch)))).filter((r) => r !== undefined)
      if (reply.raw.destroyed) return reply
      if (onlyUnavailable(responses)) reply.code(503).header('retry-after', String(DATABASE_UNAVAILABLE.data.retry_after_seconds))
      return reply.send(Array.isArray(request.body) ? responses : responses[0])
    }

    const stream = openEventStream(reply)
    await Promise.all(
      messages.map(async (m) => {
        const response = await core.dispatch(m, { ...dispatch, onNotification: (n) => stream.send('message', n) })
        if (response) stream.send('message', response)
      }),
    )
    stream.end()
    return reply
  }
  return { schema: POST_SCHEMA, handler }
}
