import type { TokenResponse } from './store/types.ts'
import type { UpstreamSession } from './upstream.ts'

/** The token answer (RFC 6749 §5.1): the Supabase access token itself, as a bearer token. */
export function tokenResponse(session: UpstreamSession, scope: string, withRefreshToken: boolean): TokenResponse {
  return {
    access_token: session.accessToken,
    token_type: 'Bearer',
    expires_in: Math.max(1, session.expiresAt - Math.floor(Date.now() / 1000)),
    scope,
    ...(withRefreshToken ? { refresh_token: session.refreshToken } : {}),
  }
}
