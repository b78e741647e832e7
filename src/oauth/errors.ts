import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { DatabaseUnavailableError } from '../db/db.ts'

/** The error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 7591 §3.2.2, RFC 7009 and RFC 8707. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'server_error'
  | 'temporarily_unavailable'

/** The one place where a code becomes an HTTP status. */
const STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  // 401, not 400: clients such as Claude register again only on a 401 invalid_client.
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  unsupported_token_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  access_denied: 403,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  server_error: 500,
  temporarily_unavailable: 503,
}

/** An OAuth protocol error; the message is the `error_description` and is always ours. */
export class OAuthError extends Error {
  readonly code: OAuthErrorCode
  constructor(code: OAuthErrorCode, description: string) {
    super(description)
    this.name = 'OAuthError'
    this.code = code
  }
  get status(): number {
    return STATUS[this.code]
  }
  toJSON() {
    return { error: this.code, error_description: this.message }
  }
}

export class InvalidRequestError extends OAuthError {
  constructor(description: string) {
    super('invalid_request', description)
  }
}
export class InvalidClientError extends OAuthError {
  constructor(description = 'client authentication failed') {
    super('invalid_client', description)
  }
}
export class InvalidGrantError extends OAuthError {
  constructor(description: string) {
    super('invalid_grant', description)
  }
}
export class UnauthorizedClientError extends OAuthError {
  constructor(description: string) {
    super('unauthorized_client', description)
  }
}
export class UnsupportedGrantTypeError extends OAuthError {
  constructor(description = 'this grant type is not supported') {
    super('unsupported_grant_type', description)
  }
}
export class InvalidScopeError extends OAuthError {
  constructor(description: string) {
    super('invalid_scope', description)
  }
}
export class InvalidTargetError extends OAuthError {
  constructor(description: string) {
    super('invalid_target', description)
  }
}
export class InvalidRedirectUriError extends OAuthError {
  constructor(description: string) {
    super('invalid_redirect_uri', description)
  }
}
export class InvalidClientMetadataError extends OAuthError {
  constructor(description: string) {
    super('invalid_client_metadata', description)
  }
}
export class TemporarilyUnavailableError extends OAuthError {
  constructor(description = 'the authorization server cannot reach Supabase Auth right now; retry shortly') {
    super('temporarily_unavailable', description)
  }
}
export class ServerError extends OAuthError {
  constructor(description = 'unexpected failure') {
    super('server_error', description)
  }
}

/** Writes an OAuth error as JSON (RFC 6749 §5.2), never cached. */
export function sendOAuthError(reply: FastifyReply, error: OAuthError, request?: FastifyRequest) {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
  if (error.code === 'temporarily_unavailable') reply.header('retry-after', String(error instanceof RateLimitedError ? error.retryAfterSeconds : 5))
  // RFC 6749 §5.2: a failed HTTP Basic client authentication answers with the matching challenge.
  if (error.code === 'invalid_client' && request?.headers.authorization?.toLowerCase().startsWith('basic ')) {
    reply.header('www-authenticate', 'Basic realm="atoms-mcp", charset="UTF-8"')
  }
  return reply.code(error.status).type('application/json; charset=utf-8').send(JSON.stringify(error.toJSON()))
}

/** Turns whatever a JSON endpoint of the authorization server threw into an OAuth error. */
export function toOAuthError(error: unknown): OAuthError {
  if (error instanceof OAuthError) return error
  if (error instanceof DatabaseUnavailableError) return new TemporarilyUnavailableError('the database cannot be reached; retry shortly')
  const fastifyError = error as FastifyError
  if (fastifyError?.validation) return new InvalidRequestError(fastifyError.message)
  switch (fastifyError?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new InvalidRequestError('the request body is too large')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new InvalidRequestError('unsupported content type')
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new InvalidRequestError('the request body is not valid JSON')
  }
  if (fastifyError?.statusCode && fastifyError.statusCode < 500) return new InvalidRequestError(fastifyError.message)
  return new ServerError()
}

export function oauthErrorHandler(error: FastifyError | OAuthError, request: FastifyRequest, reply: FastifyReply) {
  const mapped = toOAuthError(error)
  if (mapped.code === 'server_error') request.log.error({ err: error }, 'oauth: unexpected failure')
  return sendOAuthError(reply, mapped, request)
}

/** Too many requests from one address; a 429 carrying `temporarily_unavailable` and Retry-After. */
export class RateLimitedError extends OAuthError {
  readonly retryAfterSeconds: number
  constructor(retryAfterSeconds: number) {
    super('temporarily_unavailable', 'too many requests from this address; retry later')
    this.retryAfterSeconds = retryAfterSeconds
  }
  override get status(): number {
    return 429
  }
}
