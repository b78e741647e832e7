import type { AuthInfo } from '@modelcontextprotocol/server'
import type { UserContext } from '../auth/user-context.ts'

/** The caller cannot be named: no token reached a transport that has none of its own (stdio). */
export class NotAuthenticatedError extends Error {
  constructor(message = 'authentication required: pass a token (Authorization header, MCP_AUTH_TOKEN or the auth_token argument)') {
    super(message)
    this.name = 'NotAuthenticatedError'
  }
}

/** How a verified `UserContext` travels through the SDK to every handler: `authInfo.extra.user`. */
export function toAuthInfo(user: UserContext): AuthInfo {
  const clientId = user.claims.client_id ?? user.claims.azp
  return {
    token: user.accessToken,
    clientId: typeof clientId === 'string' ? clientId : 'atoms-mcp',
    scopes: user.scopes,
    expiresAt: user.expiresAt,
    extra: { user },
  }
}

/** For a transport whose token failed: the handler reports `reason` as a tool error. */
export function failedAuthInfo(reason: string): AuthInfo {
  return { token: '', clientId: 'atoms-mcp', scopes: [], extra: { authError: reason } }
}

export function userFromAuthInfo(authInfo: AuthInfo | undefined): UserContext {
  const user = authInfo?.extra?.user as UserContext | undefined
  if (user) return user
  const reason = authInfo?.extra?.authError
  throw new NotAuthenticatedError(typeof reason === 'string' ? reason : undefined)
}
