import type { AuthError } from '../auth/errors.ts'
import { SUPPORTED_SCOPES } from './scopes.ts'
import { oauthUrls } from './urls.ts'

const quote = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`

/**
 * The auth-params that point a client at this authorization server from a 401 or 403 of
 * /mcp (RFC 9728 §5.1 `resource_metadata`, RFC 6750 §3 `scope`).
 */
export function oauthChallengeParams(baseUrl: string): { resource_metadata: string; scope: string } {
  return { resource_metadata: oauthUrls(baseUrl).protectedResourceMetadata, scope: SUPPORTED_SCOPES.join(' ') }
}

/**
 * The `WWW-Authenticate` value for a 401 or 403 from /mcp in oauth mode (RFC 6750 §3,
 * RFC 9728 §5.1): where the protected resource metadata is, and which scopes to ask for.
 * With no token at all no error code is given (RFC 6750 §3.1).
 */
export function bearerChallenge(baseUrl: string, error?: AuthError & { tokenPresented?: boolean; requiredScopes?: string[] }): string {
  const parts: string[] = []
  if (error && error.tokenPresented !== false) {
    parts.push(`error=${quote(error.code)}`)
    parts.push(`error_description=${quote(error.message)}`)
  }
  const params = oauthChallengeParams(baseUrl)
  parts.push(`resource_metadata=${quote(params.resource_metadata)}`)
  parts.push(`scope=${quote(error?.requiredScopes?.join(' ') ?? params.scope)}`)
  return `Bearer ${parts.join(', ')}`
}
