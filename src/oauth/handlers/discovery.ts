import type { FastifyInstance } from 'fastify'
import { authorizationServerMetadata, openIdConfiguration, protectedResourceMetadata } from '../metadata.ts'
import { pathOf, type OAuthUrls } from '../urls.ts'

const documentSchema = { response: { 200: { type: 'object', additionalProperties: true } } } as const

/**
 * The discovery documents, at every URL a client may derive (RFC 8414 §3.1 path insertion,
 * OpenID Connect Discovery's path appending, RFC 9728 §3.1 path-suffixed and root forms), and
 * under BASE_URL's path, where the 401 points.
 */
export function discoveryPaths(urls: OAuthUrls) {
  const base = urls.basePath
  const asPaths = new Set([
    `/.well-known/oauth-authorization-server${base}`,
    `/.well-known/openid-configuration${base}`,
    `${base}/.well-known/openid-configuration`,
    `${base}/.well-known/oauth-authorization-server`,
  ])
  const prmPaths = new Set([
    `/.well-known/oauth-protected-resource${base}/mcp`,
    `/.well-known/oauth-protected-resource${base}`,
    `/.well-known/oauth-protected-resource`,
    `${base}/.well-known/oauth-protected-resource`,
    `${base}/.well-known/oauth-protected-resource/mcp`,
  ])
  return { asPaths, prmPaths }
}

export interface DiscoveryOptions {
  urls: OAuthUrls
  introspection: boolean
  /** The public keys of our access tokens, when we sign them. */
  jwks?: () => Promise<unknown>
}

export async function discoveryRoutes(app: FastifyInstance, { urls, introspection, jwks }: DiscoveryOptions) {
  const asMetadata = authorizationServerMetadata(urls, { introspection, signsTokens: jwks !== undefined })
  const openId = openIdConfiguration(asMetadata)
  const prm = protectedResourceMetadata(urls)
  const { asPaths, prmPaths } = discoveryPaths(urls)
  for (const path of asPaths) {
    const document = path.includes('/openid-configuration') ? openId : asMetadata
    app.get(path, { schema: documentSchema }, async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return document
    })
  }
  for (const path of prmPaths) {
    app.get(path, { schema: documentSchema }, async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return prm
    })
  }
  if (jwks) {
    // Keys are published a whole rotation period before they sign, so five minutes of caching is safe.
    app.get(pathOf(urls.jwks), { schema: documentSchema }, async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return jwks()
    })
  }
}
