import type { FastifyInstance } from 'fastify'
import { authenticateClient } from '../client-auth.ts'
import { firstString, type OAuthContext } from '../context.ts'
import { claimRefreshToken, endSpentSession, upstreamRefreshToken } from '../refresh-claim.ts'
import { InvalidRequestError, TemporarilyUnavailableError } from '../errors.ts'
import { isOutage, UpstreamError } from '../upstream.ts'
import { pathOf } from '../urls.ts'

const looksLikeJwt = (token: string) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)

/**
 * POST /revoke (RFC 7009). A refresh token ends its grant (every refresh token of it) and
 * the Supabase session behind it (kept sealed beside our refresh token, or the token itself
 * with OAUTH_ACCESS_TOKENS=supabase: rotated once at Supabase, its fresh access token logs
 * the session out); a Supabase access token ends its session directly. Either way the mode's token
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
      // The Supabase session lives on in the grant's newest refresh token: this one, or the
      // successor it was rotated to a moment ago.
      let live: string | undefined
      if (claim.kind === 'claimed') live = upstreamRefreshToken(token, claim.session)
      else if (claim.kind === 'replay' && claim.response.refresh_token) {
        const successor = claim.response.refresh_token
        live = upstreamRefreshToken(successor, (await store.refreshTokens.find(successor))?.session)
      } else if (claim.kind === 'reused') await endSpentSession(ctx, token, claim.session)
      if (live) {
        const supabaseToken = live
        await endSession(async () => {
          const session = await upstream.refresh(supabaseToken)
          await upstream.logout(session.accessToken)
          ctx.forgetToken(session.accessToken, session.expiresAt)
        })
      }
      // The whole grant ends: every refresh token of it, rotated or not.
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
