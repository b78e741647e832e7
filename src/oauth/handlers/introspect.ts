import type { FastifyInstance } from 'fastify'
import { authenticateClient } from '../client-auth.ts'
import { firstString, type OAuthContext } from '../context.ts'
import { InvalidClientError, InvalidRequestError } from '../errors.ts'
import { pathOf } from '../urls.ts'

/**
 * POST /introspect (RFC 7662), for the other resource servers of a deployment. Open only
 * to confidential clients: a public client's id is no secret, and introspection must not
 * let anyone probe tokens.
 */
export async function introspectRoutes(app: FastifyInstance, { ctx }: { ctx: OAuthContext }) {
  app.post(pathOf(ctx.urls.introspect), { schema: { body: { type: 'object', additionalProperties: true } } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    reply.header('cache-control', 'no-store')
    const client = await authenticateClient(ctx, request, body)
    if (!client.secretHash) throw new InvalidClientError('introspection is open to confidential clients only')
    const token = firstString(body.token)
    if (!token) throw new InvalidRequestError('token is required')

    const grant = await ctx.store.refreshTokens.find(token)
    if (grant) {
      if (!grant.active || grant.clientId !== client.clientId) return { active: false }
      return { active: true, token_type: 'refresh_token', client_id: grant.clientId, sub: grant.userId, scope: grant.scope, aud: grant.resource, iss: ctx.urls.issuer }
    }
    const user = await ctx.verifyAccessToken(token).catch(() => undefined)
    if (!user) return { active: false }
    const { claims } = user
    return {
      active: true,
      token_type: 'Bearer',
      sub: claims.sub,
      exp: claims.exp,
      iat: claims.iat,
      iss: claims.iss,
      aud: claims.aud,
      client_id: claims.client_id,
      scope: claims.scope,
      username: claims.email,
      role: claims.role,
      session_id: claims.session_id,
    }
  })
}
