import type { FastifyReply, FastifyRequest } from 'fastify'
import { bearerTokenFrom } from '../auth/bearer-token.ts'
import { refusalFor, type AuthRefusal } from '../auth/challenge.ts'
import { AuthError } from '../auth/errors.ts'
import type { AuthMode } from '../auth/mode.ts'
import type { UserContext } from '../auth/user-context.ts'
import { requireToolScopes } from './tool-scopes.ts'

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

/**
 * Who is calling: the `Authorization` header, or, only when no header came, the legacy
 * `auth_token` tool argument. Both go through the active mode alike, and the tool calls of
 * the request must be within the token's scopes. Throws an `AuthError`.
 */
export async function authenticateRequest(request: FastifyRequest, authMode: AuthMode): Promise<UserContext> {
  const legacy = takeLegacyToken(request.body)
  const header = request.headers.authorization
  const user = await authMode.authenticate(header === undefined && legacy !== undefined ? legacy : bearerTokenFrom(header))
  requireToolScopes(user, request.body)
  return user
}

/**
 * Authenticates or answers the refusal itself, with the status and challenge of the one
 * mapping in `auth/challenge.ts` and a body shaped by `body` for the surface; returns
 * undefined when the request has been answered.
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
    const refusal = refusalFor(error, authMode.challengeParams?.())
    await reply.code(refusal.status).headers(refusal.headers).send(body(refusal))
    return undefined
  }
}
