import type { FastifyReply, FastifyRequest } from 'fastify'
import { AuthError, InsufficientScopeError, InvalidTokenError, UpstreamUnavailableError } from '../auth/errors.ts'
import type { AuthMode } from '../auth/mode.ts'
import type { UserContext } from '../auth/user-context.ts'

/**
 * Takes the legacy `auth_token` argument out of every tool call in `body` (a JSON-RPC message,
 * a batch of them, or a REST `{tool, arguments}`), so that no tool ever sees it, and returns
 * the first one found.
 */
export function takeLegacyToken(body: unknown): string | undefined {
  let found: string | undefined
  const strip = (args: unknown) => {
    if (args === null || typeof args !== 'object' || !('auth_token' in args)) return
    const token = (args as Record<string, unknown>).auth_token
    delete (args as Record<string, unknown>).auth_token
    if (found === undefined && typeof token === 'string' && token !== '') found = token
  }
  for (const message of Array.isArray(body) ? body : [body]) {
    if (message === null || typeof message !== 'object') continue
    const m = message as Record<string, any>
    if (m.method === 'tools/call') strip(m.params?.arguments)
    else if (typeof m.tool === 'string') strip(m.arguments)
  }
  return found
}

function bearerToken(header: string): string {
  const match = /^Bearer +([^\s]+) *$/i.exec(header)
  if (!match) throw new InvalidTokenError('the Authorization header must be "Bearer <token>"')
  return match[1]!
}

/**
 * Who is calling: the `Authorization` header, or, only when no header came, the legacy
 * `auth_token` tool argument. Both go through the active mode alike. Throws an `AuthError`.
 */
export async function authenticateRequest(request: FastifyRequest, authMode: AuthMode): Promise<UserContext> {
  const legacy = takeLegacyToken(request.body)
  const header = request.headers.authorization
  if (header !== undefined) return authMode.authenticate(bearerToken(header))
  if (legacy !== undefined) return authMode.authenticate(legacy)
  throw new InvalidTokenError('authentication required', false)
}

export interface AuthRefusal {
  status: number
  headers: Record<string, string>
  code: string
  message: string
}

const quoted = (value: string) => `"${value.replace(/["\\]/g, '')}"`

/** The one mapping from an `AuthError` to HTTP: status, RFC 6750 challenge, Retry-After. */
export function authRefusal(error: AuthError): AuthRefusal {
  const headers: Record<string, string> = {}
  if (error instanceof InvalidTokenError) {
    headers['www-authenticate'] = error.tokenPresented
      ? `Bearer realm="atoms-mcp", error="invalid_token", error_description=${quoted(error.message)}`
      : 'Bearer realm="atoms-mcp"'
  } else if (error instanceof InsufficientScopeError) {
    headers['www-authenticate'] = `Bearer realm="atoms-mcp", error="insufficient_scope", scope=${quoted(error.requiredScopes.join(' '))}, error_description=${quoted(error.message)}`
  } else if (error instanceof UpstreamUnavailableError) {
    headers['retry-after'] = String(error.retryAfterSeconds)
  }
  return { status: error.status, headers, code: error.code, message: error.message }
}

/**
 * Authenticates or answers the refusal itself (with `body` shaping it for the surface);
 * returns undefined when the request has been answered.
 */
export async function authenticateOrRefuse(
  request: FastifyRequest,
  reply: FastifyReply,
  authMode: AuthMode,
  body: (refusal: AuthRefusal) => unknown,
): Promise<UserContext | undefined> {
  try {
    return await authenticateRequest(request, authMode)
  } catch (error) {
    if (!(error instanceof AuthError)) throw error
    const refusal = authRefusal(error)
    await reply.code(refusal.status).headers(refusal.headers).send(body(refusal))
    return undefined
  }
}
