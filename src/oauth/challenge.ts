import { RESOURCE_SCOPES } from './scopes.ts'
import { oauthUrls } from './urls.ts'

/**
 * The auth-params that point a client at this authorization server from a 401 or 403 of
 * /mcp (RFC 9728 §5.1 `resource_metadata`, RFC 6750 §3 `scope`).
 */
export function oauthChallengeParams(baseUrl: string, scopes: readonly string[] = RESOURCE_SCOPES): { resource_metadata: string; scope: string } {
  return { resource_metadata: oauthUrls(baseUrl).protectedResourceMetadata, scope: scopes.join(' ') }
}
