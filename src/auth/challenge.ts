import type { FastifyReply } from 'fastify'
import { InsufficientScopeError, InvalidTokenError, UpstreamUnavailableError, type AuthError } from './errors.ts'

/** The protection space named in every challenge. */
export const REALM = 'atoms-mcp'

const MAX_PARAM_LENGTH = 300

/**
 * An auth-param as a quoted string. RFC 6750 §3 allows only printable ASCII other than `"`
 * and `\` in `error_description` and `scope`, so anything else is dropped rather than escaped.
 */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '').slice(0, MAX_PARAM_LENGTH)}"`
}

/**
 * The `WWW-Authenticate` value for a refused request (RFC 6750 §3): the realm alone when no
 * token was sent, the error code and its description when one was.
 */
export function bearerChallenge(error: AuthError | undefined, extraParams: Record<string, string> = {}): string {
  const params: Array<[string, string]> = [['realm', REALM], ...Object.entries(extraParams)]
  if (error instanceof InsufficientScopeError) {
    params.push(['error', error.code], ['error_description', error.message], ['scope', error.requiredScopes.join(' ')])
  } else if (error instanceof InvalidTokenError && error.tokenPresented) {
    params.push(['error', error.code], ['error_description', error.message])
  }
  return `Bearer ${params.map(([name, value]) => `${name}=${quoted(value)}`).join(', ')}`
}

/**
 * The one place an `AuthError` becomes a response on protected routes: 401 or 403 with a
 * challenge, 503 with `Retry-After`; the body is `{error, error_description}` in each case.
 */
export function sendAuthError(reply: FastifyReply, error: AuthError, extraParams?: Record<string, string>): FastifyReply {
  if (error instanceof UpstreamUnavailableError) {
    reply.header('retry-after', String(error.retryAfterSeconds))
  } else {
    reply.header('www-authenticate', bearerChallenge(error, extraParams))
  }
  return reply.code(error.status).send({ error: error.code, error_description: describe(error) })
}

function describe(error: AuthError): string {
  if (error instanceof UpstreamUnavailableError) {
    return `Supabase Auth cannot check credentials right now (${error.message}); retry in ${error.retryAfterSeconds} s`
  }
  return error.message
}
