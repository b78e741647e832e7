import type { FastifyInstance } from 'fastify'
import { completeAuthorization, denyAuthorization, loadBoundRequest } from '../authorization-flow.ts'
import { firstString, type OAuthContext } from '../context.ts'
import { MISCONFIGURED_OIDC_CLIENT } from '../oidc/upstream.ts'
import { MISCONFIGURED_CLIENT } from '../supabase-oauth-upstream.ts'
import { UpstreamError, type UpstreamFailure, type UpstreamSession } from '../upstream.ts'
import { pathOf } from '../urls.ts'
import { recordSignIn, signedIn } from './sign-in.ts'

/** What the client hears when the provider's answer names nobody this server can sign in. */
const REFUSALS: Partial<Record<UpstreamFailure, string>> = {
  unconfirmed: 'the provider has not verified the email address of this account',
  credentials: 'this account has no user on this server; ask its operator',
}

/**
 * GET /auth/callback: the browser back from a social sign-in at Supabase. The Supabase code
 * is exchanged with this server's PKCE verifier, and only in the browser that started the
 * request (its binding cookie is checked again here).
 */
export async function callbackRoutes(app: FastifyInstance, { ctx }: { ctx: OAuthContext }) {
  app.get(pathOf(ctx.urls.callback), { schema: { querystring: { type: 'object', additionalProperties: true } } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>
    const bound = await loadBoundRequest(ctx, request, reply, query.state, null)
    if (!bound) return reply
    const code = firstString(query.code)
    const verifier = bound.request.providerVerifier
    if (query.error === 'access_denied') return denyAuthorization(ctx, reply, bound, 'the user denied the request')
    if (query.error !== undefined || !code || !verifier) {
      return denyAuthorization(ctx, reply, bound, 'the sign-in with the provider did not complete')
    }
    let session: UpstreamSession
    try {
      session = await ctx.upstream.exchangeCode(code, verifier, new URLSearchParams(request.url.split('?')[1] ?? ''))
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error
      if (error.failure === 'unavailable') return denyAuthorization(ctx, reply, bound, 'the sign-in service could not be reached', 'temporarily_unavailable')
      if (error.failure === 'misconfigured') {
        reply.log.error(ctx.config.oauth.upstream === 'oidc' ? MISCONFIGURED_OIDC_CLIENT : MISCONFIGURED_CLIENT)
        return denyAuthorization(ctx, reply, bound, 'the authorization server is not configured correctly; contact its operator', 'server_error')
      }
      return denyAuthorization(ctx, reply, bound, REFUSALS[error.failure] ?? 'the sign-in with the provider was refused')
    }
    if (ctx.upstream.authorizationUrl) {
      // The user approved on our consent step before leaving for Supabase's OAuth server.
      const recorded = await recordSignIn(ctx, bound, session)
      await ctx.store.consents.grant(session.userId, bound.client.clientId, bound.request.scope)
      return completeAuthorization(ctx, reply, recorded)
    }
    return signedIn(ctx, reply, bound, session)
  })
}
