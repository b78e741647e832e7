import type { FastifyInstance, FastifyRequest } from 'fastify'
import { bearerTokenFrom } from '../../auth/bearer-token.ts'
import { firstString, type OAuthContext } from '../context.ts'
import { safeEqual, sha256 } from '../../crypto.ts'
import { InvalidClientError, InvalidRequestError, RateLimitedError } from '../errors.ts'
import { pathOf } from '../urls.ts'

/** Failed (or still unchecked) authentications allowed per address in the window, against guessing the secret. */
export const INTROSPECTION_FAILURES = 30
const FAILURE_WINDOW_SECONDS = 900

function presentedSecret(request: FastifyRequest): string | undefined {
  try {
    return bearerTokenFrom(request.headers.authorization)
  } catch {
    return undefined
  }
}

/**
 * POST /introspect (RFC 7662), for the other resource servers of a deployment, which an
 * operator configures with OAUTH_INTROSPECTION_SECRET and which send it as a bearer token
 * (§2.1). Clients never can: anybody may register one, and introspection would let them
 * probe tokens. Resource servers receive access tokens only, so only access tokens are
 * answered; anything else is `active: false`. Failed authentications are limited per
 * address through the store the other limits of the authorization server share.
 */
export async function introspectRoutes(app: FastifyInstance, { ctx, secret }: { ctx: OAuthContext; secret: string }) {
  const expected = sha256(secret)
  app.post(pathOf(ctx.urls.introspect), { schema: { body: { type: 'object', additionalProperties: true } } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    reply.header('cache-control', 'no-store')
    // Counted before the check and taken back once it passes, so a burst of concurrent
    // guesses is limited as well as a sequence of them.
    const bucket = `introspect-auth:${request.ip}`
    if ((await ctx.store.hit(bucket, FAILURE_WINDOW_SECONDS)) > INTROSPECTION_FAILURES) throw new RateLimitedError(FAILURE_WINDOW_SECONDS)
    const presented = presentedSecret(request)
    // Compared as digests: equal length whatever was sent, so the comparison takes constant time.
    if (presented && safeEqual(sha256(presented), expected)) {
      await ctx.store.undoHit(bucket)
    } else {
      reply.header('www-authenticate', 'Bearer realm="atoms-mcp introspection"')
      throw new InvalidClientError('introspection is open to the resource servers of this deployment only (Authorization: Bearer OAUTH_INTROSPECTION_SECRET)')
    }
    const token = firstString(body.token)
    if (!token) throw new InvalidRequestError('token is required')

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
      ...(typeof claims.client_id === 'string' ? { client_id: claims.client_id } : {}),
    }
  })
}
