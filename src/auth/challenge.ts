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
  // An insufficient_scope error names the scopes it needs; the mode's default scope would contradict it.
  const extras = Object.entries(extraParams).filter(([name]) => !(error instanceof InsufficientScopeError && name === 'scope'))
  const params: Array<[string, string]> = [['realm', REALM], ...extras]
  if (error instanceof InsufficientScopeError) {
    params.push(['error', error.code], ['error_description', error.message], ['scope', error.requiredScopes.join(' ')])
  } else if (error instanceof InvalidTokenError && error.tokenPresented) {
    params.push(['error', error.code], ['error_description', error.message])
  }
  return `Bearer ${params.map(([name, value]) => `${name}=${quoted(value)}`).join(', ')}`
}

export interface AuthRefusal {
  status: number
  headers: Record<string, string>
  error: string
  description: string
}

/**
 * The one mapping from an `AuthError` to an answer: 401 or 403 with a challenge, 503 with
 * `Retry-After`. Routes of other wire formats (simple mode's `{error, message}`) take it too.
 */
export function refusalFor(error: AuthError, extraParams?: Record<string, string>): AuthRefusal {
  if (error instanceof UpstreamUnavailableError) {
    return {
      status: error.status,
      headers: { 'retry-after': String(error.retryAfterSeconds) },
      error: error.code,
      description: `Supabase Auth cannot check credentials right now (${error.message}); retry in ${error.retryAfterSeconds} s`,
    }
  }
  return { status: error.status, headers: { 'www-authenticate': bearerChallenge(error, extraParams) }, error: error.code, description: error.message }
}

/** Ends a request to a protected route that was refused: body `{error, error_description}`. */
export function sendAuthError(reply: FastifyReply, error: AuthError, extraParams?: Record<string, string>): FastifyReply {
  const refusal = refusalFor(error, extraParams)
  return reply.code(refusal.status).headers(refusal.headers).send({ error: refusal.error, error_description: refusal.description })
}
