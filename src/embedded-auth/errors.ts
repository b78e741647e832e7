import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { DatabaseUnavailableError } from '../db/db.ts'
import { BadJsonError } from './body.ts'
import { OAuthServerError } from './oauth-server/errors.ts'

/** An error in GoTrue's own vocabulary: a status, a stable `error_code` and a message. */
export class GoTrueError extends Error {
  readonly status: number
  readonly code: string
  readonly extra: Record<string, unknown> | undefined
  constructor(status: number, code: string, message: string, extra?: Record<string, unknown>) {
    super(message)
    this.name = 'GoTrueError'
    this.status = status
    this.code = code
    this.extra = extra
  }
}

/** GoTrue's 429 for too many requests; `Retry-After` says when to try again. */
export class OverRequestRateLimitError extends GoTrueError {
  readonly retryAfterSeconds: number
  constructor(retryAfterSeconds: number) {
    super(429, 'over_request_rate_limit', 'Request rate limit reached')
    this.retryAfterSeconds = retryAfterSeconds
  }
}

export const badRequest = (code: string, message: string) => new GoTrueError(400, code, message)
export const validationFailed = (message: string) => new GoTrueError(400, 'validation_failed', message)

const API_VERSION_2024 = '2024-01-01'

/** True when the caller asked for the 2024-01-01 error format (supabase-js always does). */
function wantsVersion2024(request: FastifyRequest): boolean {
  const value = request.headers['x-supabase-api-version']
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false
  return value >= API_VERSION_2024
}

/**
 * Sends a GoTrue error. Both vocabularies are in the body (`code` and `error_code`,
 * `message` and `msg`) so that any client version reads the code, and the version header
 * is echoed when asked for, which is what makes supabase-js trust `code`.
 */
export function sendGoTrueError(request: FastifyRequest, reply: FastifyReply, error: GoTrueError) {
  const body: Record<string, unknown> = wantsVersion2024(request)
    ? { code: error.code, error_code: error.code, message: error.message, msg: error.message }
    : { code: error.status, error_code: error.code, msg: error.message, message: error.message }
  if (error.status >= 500) body.error_id = request.id
  if (error.extra) Object.assign(body, error.extra)
  if (wantsVersion2024(request)) reply.header('x-supabase-api-version', API_VERSION_2024)
  reply.header('x-sb-error-code', error.code)
  if (error.status === 503) reply.header('retry-after', '5')
  if (error instanceof OverRequestRateLimitError) reply.header('retry-after', String(error.retryAfterSeconds))
  return reply.code(error.status).type('application/json; charset=utf-8').send(JSON.stringify(body))
}

/** Maps whatever a route threw (including Fastify's own parse and size errors) to GoTrue errors. */
export function goTrueErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof GoTrueError) return sendGoTrueError(request, reply, error)
  // The OAuth server endpoints answer in OAuth's shape, always 400, as GoTrue does.
  if (error instanceof OAuthServerError) {
    return reply.code(400).header('cache-control', 'no-store').send({ error: error.error, error_description: error.message })
  }
  if (error instanceof DatabaseUnavailableError) {
    return sendGoTrueError(request, reply, new GoTrueError(503, 'unexpected_failure', 'The database is unavailable, try again shortly'))
  }
  if (error instanceof BadJsonError) return sendGoTrueError(request, reply, badRequest('bad_json', error.message))
  const fastifyError = error as FastifyError
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return sendGoTrueError(request, reply, badRequest('bad_json', `Could not parse request body as JSON: ${error.message}`))
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return sendGoTrueError(request, reply, new GoTrueError(413, 'request_entity_too_large', 'Request body too large'))
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return sendGoTrueError(request, reply, new GoTrueError(415, 'validation_failed', 'Unsupported content type'))
  }
  // A body field of the wrong type is what Go's decoder refuses: bad JSON, not bad input.
  if (fastifyError.validation && fastifyError.validationContext === 'body') {
    return sendGoTrueError(request, reply, badRequest('bad_json', `Could not parse request body as JSON: ${error.message}`))
  }
  if (fastifyError.validation) return sendGoTrueError(request, reply, validationFailed(error.message))
  if (fastifyError.statusCode && fastifyError.statusCode < 500) {
    return sendGoTrueError(request, reply, new GoTrueError(fastifyError.statusCode, 'validation_failed', error.message))
  }
  request.log.error({ err: error }, 'embedded auth: unexpected failure')
  return sendGoTrueError(request, reply, new GoTrueError(500, 'unexpected_failure', 'Unexpected failure, please check server logs for more information'))
}
