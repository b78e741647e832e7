import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { AuthMode } from '../auth/mode.ts'
import { toAuthInfo } from './auth-info.ts'
import { authenticateOrRefuse } from './authenticate.ts'
import { jsonRpcError, jsonRpcErrorHandler, openEventStream, parseMessages } from './http-common.ts'
import type { McpCore } from './mcp-server.ts'

const KEEPALIVE_MS = 15_000

export interface LegacySseOptions {
  core: McpCore
  authMode: AuthMode
  baseUrl: string
}

/**
 * The HTTP+SSE transport of protocol 2024-11-05: `GET /sse` opens the stream and names a
 * per-session POST endpoint, `POST /messages?sessionId=` delivers messages whose responses go
 * down the stream. Sessions live in this instance only (the old transport needs affinity), and
 * each POST is authenticated again and must come from the user who opened the session.
 */
export async function legacySseRoutes(app: FastifyInstance, options: LegacySseOptions) {
  const { core, authMode, baseUrl } = options
  const basePath = new URL(baseUrl).pathname.replace(/\/$/, '')
  const sessions = new Map<string, { userId: string; stream: ReturnType<typeof openEventStream> }>()

  app.setErrorHandler(jsonRpcErrorHandler)
  app.addHook('preClose', async () => {
    for (const session of sessions.values()) session.stream.end()
    sessions.clear()
  })

  app.get('/sse', async (request, reply) => {
    const user = await authenticateOrRefuse(request, reply, authMode, (refusal) => ({ error: { code: refusal.error, message: refusal.description } }))
    if (!user) return reply
    const sessionId = randomUUID()
    const stream = openEventStream(reply)
    sessions.set(sessionId, { userId: user.userId, stream })
    const keepalive = setInterval(() => stream.comment('keepalive'), KEEPALIVE_MS)
    reply.raw.on('close', () => {
      clearInterval(keepalive)
      sessions.delete(sessionId)
    })
    stream.send('endpoint', `${basePath}/messages?sessionId=${sessionId}`)
    return reply
  })

  const messagesSchema = {
    querystring: { type: 'object', properties: { sessionId: { type: 'string', maxLength: 64 } }, required: ['sessionId'] },
    body: { anyOf: [{ type: 'object' }, { type: 'array' }] },
  } as const

  app.post<{ Querystring: { sessionId: string } }>('/messages', { schema: messagesSchema }, async (request, reply) => {
    const session = sessions.get(request.query.sessionId)
    if (!session) return reply.code(404).send(jsonRpcError(-32001, 'Session not found; open a new one with GET /sse'))
    const messages = parseMessages(request.body)
    if (!messages) return reply.code(400).send(jsonRpcError(-32600, 'Invalid Request: the body must be a JSON-RPC 2.0 message'))
    const user = await authenticateOrRefuse(request, reply, authMode, (refusal) => jsonRpcError(-32001, refusal.description))
    if (!user) return reply
    if (user.userId !== session.userId) return reply.code(403).send(jsonRpcError(-32001, 'this session belongs to another user'))

    const dispatch = { authInfo: toAuthInfo(user), onNotification: (n: any) => session.stream.send('message', n) }
    for (const message of messages) {
      core.dispatch(message, dispatch).then(
        (response) => response && session.stream.send('message', response),
        (error) => request.log.error({ err: error }, 'legacy sse dispatch failed'),
      )
    }
    return reply.code(202).type('text/plain').send('Accepted')
  })
}
