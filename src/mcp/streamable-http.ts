import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { toNodeHandler } from '@modelcontextprotocol/node'
import { SERVER_INFO_META_KEY, type JSONRPCMessage, type JSONRPCRequest, type ProtocolError } from '@modelcontextprotocol/server'
import type { AuthMode } from '../auth/mode.ts'
import type { UserContext } from '../auth/user-context.ts'
import { toAuthInfo } from './auth-info.ts'
import { authenticateOrRefuse } from './authenticate.ts'
import { idOf, plainModernToolCall, routeByEra, STREAMABLE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSION, type EraRoute } from './era.ts'
import { errorObject, serialiseReply, SERVER_INFO, type McpCore } from './mcp-server.ts'
import { isRequest } from './messages.ts'
import { DATABASE_UNAVAILABLE, jsonRpcError, jsonRpcErrorHandler, onlyUnavailable, openEventStream, parseMessages } from './http-common.ts'

export { STREAMABLE_PROTOCOL_VERSIONS }

export interface StreamableHttpOptions {
  core: McpCore
  authMode: AuthMode
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
    if (typeof requested !== 'string' || !STREAMABLE_PROTOCOL_VERSIONS.includes(requested)) message.params.protocolVersion = STREAMABLE_PROTOCOL_VERSIONS[0]
  }
}

/**
 * MCP Streamable HTTP at /mcp, stateless: every POST carries its own credentials and is
 * answered on its own, so any instance behind a load balancer can take any request. Each
 * POST is served in the era it claims (`era.ts`): 2026-07-28 from its `_meta` envelope, the
 * 2025 revisions otherwise; the same authentication and the same tools behind both.
 */
export async function streamableHttpRoutes(app: FastifyInstance, options: StreamableHttpOptions) {
  const { authMode } = options
  app.setErrorHandler(jsonRpcErrorHandler)
  app.post('/mcp', postRoute(options, (request, reply) => authenticateOrRefuse(request, reply, authMode, (refusal) => jsonRpcError(-32001, refusal.description, idOf(request.body)))))

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

/** The 2026-07-28 result `_meta`, naming this server as the SDK does on every result. */
const MODERN_RESULT_META = { [SERVER_INFO_META_KEY]: SERVER_INFO }

function postRoute({ core }: StreamableHttpOptions, authenticate: Authenticate) {
  const sdkHandler = toNodeHandler(core.modern)

  /**
   * A 2026-07-28 request, once authenticated. A plain tool call goes straight to the tool, as
   * in the 2025 era; everything else is the SDK's (a server per request from the same
   * handlers: discovery, lists with their cache hints, reads, refusals, progress streams).
   */
  const serveModern = async (request: FastifyRequest, reply: FastifyReply, route: Extract<EraRoute, { era: 'modern' }>, user: UserContext) => {
    const authInfo = toAuthInfo(user)
    const message = route.message
    const call = 'id' in message ? plainModernToolCall(message as JSONRPCRequest, request.headers) : undefined
    if (call) {
      const id = (message as JSONRPCRequest).id
      try {
        const result = await core.callTool(call, authInfo)
        return reply.send({ result: { ...result, resultType: 'complete', _meta: MODERN_RESULT_META }, jsonrpc: '2.0', id })
      } catch (error) {
        const answer = { jsonrpc: '2.0', id, error: errorObject(error as ProtocolError) }
        if (onlyUnavailable([answer])) reply.code(503).header('retry-after', String(DATABASE_UNAVAILABLE.data.retry_after_seconds))
        return reply.send(answer)
      }
    }
    // The SDK writes the answer itself (JSON or an event stream); headers set so far (CORS) go first.
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value as string)
    reply.hijack()
    Object.assign(request.raw, { auth: authInfo })
    await sdkHandler(request.raw, reply.raw, request.body)
    return reply
  }

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    // The era first: a 2026-07-28 message has been proved a JSON-RPC message by the SDK's classifier.
    const route = routeByEra(request.headers, request.body)
    if (route.era === 'reject') return reply.code(route.status).send({ jsonrpc: '2.0', id: idOf(request.body), error: route.error })
    if (route.era === 'modern') {
      const user = await authenticate(request, reply)
      return user ? serveModern(request, reply, route, user) : reply
    }
    const messages = parseMessages(request.body)
    if (!messages) return reply.code(400).send(jsonRpcError(-32600, 'Invalid Request: the body must be a JSON-RPC 2.0 message or a batch of them', idOf(request.body)))

    const version = request.headers['mcp-protocol-version']
    if (version !== undefined && !STREAMABLE_PROTOCOL_VERSIONS.includes(String(version).trim())) {
      const supported = [...STREAMABLE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSION]
      return reply
        .code(400)
        .send({ jsonrpc: '2.0', id: idOf(request.body), error: { code: -32600, message: `Unsupported MCP-Protocol-Version ${version}; supported: ${supported.join(', ')}`, data: { supported, requested: String(version) } } })
    }

    const user = await authenticate(request, reply)
    if (!user) return reply

    messages.forEach(negotiateVersion)
    const dispatch = { authInfo: toAuthInfo(user) }
    const requests = messages.filter(isRequest)
    if (requests.length === 0) {
      await Promise.all(messages.map((m) => core.dispatch(m, dispatch)))
      return reply.code(202).send()
    }

    if (!wantsEventStream(request.headers.accept, requests)) {
      const responses = (await Promise.all(messages.map((m) => core.dispatch(m, dispatch)))).filter((r) => r !== undefined)
      if (reply.raw.destroyed) return reply
      if (onlyUnavailable(responses)) reply.code(503).header('retry-after', String(DATABASE_UNAVAILABLE.data.retry_after_seconds))
      if (Array.isArray(request.body)) return reply.send(responses)
      return reply.type('application/json; charset=utf-8').send(serialiseReply(responses[0]))
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
