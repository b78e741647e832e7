import type { FastifyInstance } from 'fastify'
import { authenticateClient } from '../client-auth.ts'
import { firstString, type OAuthContext } from '../context.ts'
import { claimRefreshToken } from '../refresh-claim.ts'
import { InvalidRequestError, TemporarilyUnavailableError } from '../errors.ts'
import { isOutage, UpstreamError } from '../upstream.ts'
import { pathOf } from '../urls.ts'

const looksLikeJwt = (token: string) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)

/**
 * POST /revoke (RFC 7009). A refresh token ends its Supabase session (the only way to end
 * it with just a refresh token is to rotate it once and log out with the new access
 * token); a Supabase access token ends its session directly. Either way the mode's token
 * checks forget the session (or our own access token), so its access tokens stop working at
 * /mcp at once, on this instance. Unknown tokens get 200, as §2.2 says.
 */
export async function revokeRoutes(app: FastifyInstance, { ctx }: { ctx: OAuthContext }) {
  const { store, upstream } = ctx

  async function endSession(work: () => Promise<void>) {
    try {
      await work()
    } catch (error) {
      if (error instanceof UpstreamError && isOutage(error.failure)) throw new TemporarilyUnavailableError()
      if (!(error instanceof UpstreamError)) throw error
    }
  }

  app.post(pathOf(ctx.urls.revoke), { schema: { body: { type: 'object', additionalProperties: true } } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    reply.header('cache-control', 'no-store')
    const client = await authenticateClient(ctx, request, body)
    const token = firstString(body.token)
    if (!token) throw new InvalidRequestError('token is required')

    const grant = await store.refreshTokens.find(token)
    if (grant) {
      // A token of another client is left alone; the answer does not say whether it exists.
      if (grant.clientId !== client.clientId) return reply.code(200).send()
      const claim = await claimRefreshToken(ctx, token, client.clientId)
      if (claim.kind === 'claimed') {
        await endSession(async () => {
          const session = await upstream.refresh(token)
          await upstream.logout(session.accessToken)
          ctx.forgetToken(session.accessToken, session.expiresAt)
        })
      } else if (claim.kind === 'replay') {
        // Rotated a moment ago: the session lives on in its successor, which ends with it. Its
        // access token may be one of ours, so the session is reached through its refresh token.
        const successor = claim.response.refresh_token
        if (successor) {
          await endSession(async () => upstream.logout((await upstream.refresh(successor)).accessToken))
          await store.refreshTokens.revoke(successor)
        }
      }
      await store.refreshTokens.revoke(token)
      ctx.forgetSession(grant.sessionId)
      return reply.code(200).send()
    }
    if (looksLikeJwt(token)) {
      const user = await ctx.verifyAccessToken(token).catch(() => undefined)
      if (user) {
        // Our own access tokens are never sent to Supabase: they are only forgotten here.
        if (!ctx.keys) await endSession(() => upstream.logout(token))
        ctx.forgetToken(token, user.expiresAt)
      }
    }
    return reply.code(200).send()
  })
}
