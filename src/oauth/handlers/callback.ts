import type { FastifyInstance } from 'fastify'
import { denyAuthorization, loadBoundRequest } from '../authorization-flow.ts'
import { firstString, type OAuthContext } from '../context.ts'
import { UpstreamError, type UpstreamSession } from '../upstream.ts'
import { pathOf } from '../urls.ts'
import { signedIn } from './sign-in.ts'

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
    if (query.error !== undefined || !code || !verifier) {
      return denyAuthorization(ctx, reply, bound, 'the sign-in with the provider did not complete')
    }
    let session: UpstreamSession
    try {
      session = await ctx.upstream.exchangeCode(code, verifier)
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error
      if (error.failure === 'unavailable') return denyAuthorization(ctx, reply, bound, 'Supabase Auth could not be reached', 'temporarily_unavailable')
      return denyAuthorization(ctx, reply, bound, 'the sign-in with the provider was refused')
    }
    return signedIn(ctx, reply, bound, session)
  })
}
