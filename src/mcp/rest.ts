import type { FastifyError, FastifyInstance } from 'fastify'
import { ProtocolError } from '@modelcontextprotocol/server'
import type { AuthMode } from '../auth/mode.ts'
import { DatabaseUnavailableError } from '../db/db.ts'
import { EntityError, type EntityErrorKind } from '../entities/errors.ts'
import { authenticateOrRefuse } from './authenticate.ts'
import { requestErrorStatus } from './http-common.ts'
import type { McpCore } from './mcp-server.ts'
import { UsageLimitError } from './usage.ts'

export interface RestOptions {
  core: McpCore
  authMode: AuthMode
}

const STATUS: Record<EntityErrorKind, number> = { not_found: 404, forbidden: 403, invalid: 400, conflict: 409 }
const CODE: Record<EntityErrorKind, string> = { not_found: 'not_found', forbidden: 'forbidden', invalid: 'invalid_argument', conflict: 'conflict' }

const errorBody = (code: string, message: string) => ({ error: { code, message } })

const callSchema = {
  body: {
    type: 'object',
    required: ['tool'],
    properties: {
      tool: { type: 'string', minLength: 1, maxLength: 100 },
      arguments: { type: 'object' },
    },
    additionalProperties: false,
  },
} as const

/**
 * The plain REST surface earlier clients use: `GET /api/mcp/tools` and
 * `POST /api/mcp/tools/call {tool, arguments}`, answering `{result}` or `{error: {code, message}}`
 * with the HTTP status that fits. Same tools, same registry, same checks as MCP.
 */
export async function restRoutes(app: FastifyInstance, options: RestOptions) {
  const { core, authMode } = options
  const refuse = (refusal: { error: string; description: string }) => errorBody(refusal.error, refusal.description)

  app.setErrorHandler(async (error, request, reply) => {
    if (error instanceof DatabaseUnavailableError) {
      return reply.code(503).header('retry-after', '5').send(errorBody('temporarily_unavailable', 'the database cannot be reached; retry shortly'))
    }
    const { status, message } = requestErrorStatus(error as FastifyError)
    if (status === 500) request.log.error({ err: error }, 'rest tool call failed')
    return reply.code(status).send(errorBody(status === 500 ? 'internal_error' : 'invalid_request', message))
  })

  app.get('/api/mcp/tools', async (request, reply) => {
    const user = await authenticateOrRefuse(request, reply, authMode, refuse)
    if (!user) return reply
    return { result: { tools: core.registry.descriptors } }
  })

  app.post<{ Body: { tool: string; arguments?: Record<string, unknown> } }>('/api/mcp/tools/call', { schema: callSchema }, async (request, reply) => {
    const user = await authenticateOrRefuse(request, reply, authMode, refuse)
    if (!user) return reply
    const { tool } = request.body
    if (!core.registry.has(tool)) return reply.code(404).send(errorBody('unknown_tool', `unknown tool ${JSON.stringify(tool)}; GET /api/mcp/tools lists them`))
    try {
      return { result: await core.registry.call(tool, request.body.arguments ?? {}, () => user) }
    } catch (error) {
      if (error instanceof ProtocolError) return reply.code(400).send(errorBody('invalid_params', error.message.replace(/^MCP error -?\d+: /, '')))
      if (error instanceof EntityError) return reply.code(STATUS[error.kind]).send(errorBody(CODE[error.kind], error.message))
      if (error instanceof UsageLimitError) return reply.code(429).header('retry-after', String(error.retryAfterSeconds)).send(errorBody('rate_limited', error.message))
      throw error
    }
  })
}
