import { withoutTrailingSlashes } from '../http/trailing-slashes.ts'

/**
 * Every public URL of the authorization server, derived from BASE_URL in one place so a
 * BASE_URL with a path (`https://host/fastmcp`) moves every endpoint with it.
 */
export interface OAuthUrls {
  /** BASE_URL without a trailing slash; the issuer (RFC 8414) and RFC 9207 `iss`. */
  issuer: string
  /** The path of BASE_URL, '' at the root. Route paths are `${basePath}/...`. */
  basePath: string
  /** The MCP endpoint this server protects: the RFC 8707 resource. */
  resource: string
  authorize: string
  token: string
  register: string
  revoke: string
  introspect: string
  /** The public keys our access tokens are signed with (RFC 8414 `jwks_uri`). */
  jwks: string
  callback: string
  /** The sign-in and consent page's own steps. */
  signIn: string
  provider: string
  consent: string
  protectedResourceMetadata: string
  authorizationServerMetadata: string
}

export function oauthUrls(baseUrl: string): OAuthUrls {
  const issuer = withoutTrailingSlashes(baseUrl)
  const url = new URL(issuer)
  const basePath = withoutTrailingSlashes(url.pathname)
  const at = (path: string) => `${issuer}${path}`
  return {
    issuer,
    basePath,
    resource: at('/mcp'),
    authorize: at('/authorize'),
    token: at('/token'),
    register: at('/register'),
    revoke: at('/revoke'),
    introspect: at('/introspect'),
    jwks: at('/.well-known/jwks.json'),
    callback: at('/auth/callback'),
    signIn: at('/authorize/sign-in'),
    provider: at('/authorize/provider'),
    consent: at('/authorize/consent'),
    // What the 401 advertises: under BASE_URL's path, so one proxy rule for that path serves a
    // client that follows the challenge (the RFC 9728 §3.1 form at the root is served as well;
    // without a path the two are the same URL).
    protectedResourceMetadata: `${issuer}/.well-known/oauth-protected-resource/mcp`,
    // RFC 8414 §3.1: the well-known segment goes between host and path.
    authorizationServerMetadata: `${url.origin}/.well-known/oauth-authorization-server${basePath}`,
  }
}

/** The path part of one of the URLs above, for registering its route. */
export const pathOf = (absolute: string) => new URL(absolute).pathname
