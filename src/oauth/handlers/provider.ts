import type { FastifyInstance } from 'fastify'
import { loadBoundRequest, showSignIn } from '../authorization-flow.ts'
import { firstString, type OAuthContext } from '../context.ts'
import { pkcePair } from '../../crypto.ts'
import { pathOf } from '../urls.ts'

/**
 * GET /authorize/provider: a social provider button. The browser goes to Supabase's
 * /authorize with this server's own PKCE pair (never the client's) and comes back to
 * /auth/callback. A link, not a form: form-action would block the provider's redirects.
 */
export async function providerRoutes(app: FastifyInstance, { ctx }: { ctx: OAuthContext }) {
  app.get(pathOf(ctx.urls.provider), { schema: { querystring: { type: 'object', additionalProperties: true } } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>
    const bound = await loadBoundRequest(ctx, request, reply, query.handle, query.csrf)
    if (!bound) return reply
    const provider = firstString(query.provider) ?? ''
    if (!ctx.config.oauth.providers.includes(provider)) return showSignIn(ctx, reply, bound, 400, 'This sign-in provider is not enabled.')
    const pkce = pkcePair()
    await ctx.store.authorizations.update(bound.handle, { providerVerifier: pkce.verifier })
    // The handle comes back in the query of our callback; the browser cookie proves it is ours.
    const back = `${ctx.urls.callback}?${new URLSearchParams({ state: bound.handle })}`
    return reply.redirect(ctx.upstream.providerUrl(provider, back, pkce.challenge), 302)
  })
}
