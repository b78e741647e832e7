import type { FastifyInstance } from 'fastify'
import { completeAuthorization, denyAuthorization, loadBoundRequest, sendErrorPage, showSignIn } from '../authorization-flow.ts'
import type { OAuthContext } from '../context.ts'
import { pathOf } from '../urls.ts'

/**
 * POST /authorize/consent: Approve or Deny (Deny also from the sign-in page). An approval
 * is remembered for this user and client, so a returning client is not asked again.
 */
export async function consentRoutes(app: FastifyInstance, { ctx }: { ctx: OAuthContext }) {
  app.post(pathOf(ctx.urls.consent), { schema: { body: { type: 'object', additionalProperties: true } } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const bound = await loadBoundRequest(ctx, request, reply, body.handle, body.csrf)
    if (!bound) return reply
    if (body.decision === 'deny') return denyAuthorization(ctx, reply, bound, 'the user denied the request')
    if (body.decision !== 'approve') return sendErrorPage(reply, 400, 'No decision', 'Choose Approve or Deny.')
    if (!bound.request.user || !bound.request.session) return showSignIn(ctx, reply, bound, 400, 'Sign in first.')
    await ctx.store.consents.grant(bound.request.user.id, bound.client.clientId, bound.request.scope)
    return completeAuthorization(ctx, reply, bound)
  })
}
