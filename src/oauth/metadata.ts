import { AUTHORIZATION_SCOPES, RESOURCE_SCOPES } from './scopes.ts'
import type { OAuthUrls } from './urls.ts'

export const TOKEN_ENDPOINT_AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'] as const
export const GRANT_TYPES = ['authorization_code', 'refresh_token'] as const

/** RFC 8414 authorization server metadata; it lists only what the endpoints really do. */
export function authorizationServerMetadata(urls: OAuthUrls, options: { introspection: boolean; signsTokens: boolean }) {
  return {
    issuer: urls.issuer,
    ...(options.signsTokens ? { jwks_uri: urls.jwks } : {}),
    authorization_endpoint: urls.authorize,
    token_endpoint: urls.token,
    registration_endpoint: urls.register,
    revocation_endpoint: urls.revoke,
    ...(options.introspection ? { introspection_endpoint: urls.introspect } : {}),
    scopes_supported: [...AUTHORIZATION_SCOPES],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: [...GRANT_TYPES],
    token_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    revocation_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: true,
    service_documentation: urls.issuer,
  }
}

/**
 * The same metadata at the OpenID Connect Discovery URLs. Clients that find it there parse it
 * as an OpenID Provider document and refuse it without that format's required members; this
 * server issues no ID tokens (`openid` is not among its scopes), so these only describe its
 * subjects and the algorithm of its keys.
 */
export function openIdConfiguration(metadata: ReturnType<typeof authorizationServerMetadata>) {
  return { ...metadata, subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['ES256'] }
}

/**
 * RFC 9728 protected resource metadata for the MCP endpoint. It lists the resource's own
 * scopes, never `offline_access` (2026-07-28: a refresh token is the AS's business).
 */
export function protectedResourceMetadata(urls: OAuthUrls, scopes: readonly string[] = RESOURCE_SCOPES) {
  return {
    resource: urls.resource,
    authorization_servers: [urls.issuer],
    scopes_supported: [...scopes],
    bearer_methods_supported: ['header'],
    resource_name: 'atoms-mcp',
  }
}
