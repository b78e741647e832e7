import type { FastifyInstance, FastifyReply } from 'fastify'
import { continueAfterSignIn, loadBoundRequest, showSignIn, type BoundRequest } from '../authorization-flow.ts'
import { firstString, type OAuthContext } from '../context.ts'
import { UpstreamError, type UpstreamSession } from '../upstream.ts'
import { pathOf } from '../urls.ts'

/** Records who signed in on the pending request. */
export async function recordSignIn(ctx: OAuthContext, bound: BoundRequest, session: UpstreamSession): Promise<BoundRequest> {
  const user = { id: session.userId, email: session.email }
  await ctx.store.authorizations.update(bound.handle, { user, session, providerVerifier: undefined })
  return { ...bound, request: { ...bound.request, user, session, providerVerifier: undefined } }
}

/** Records who signed in, then continues to consent or the client. */
export async function signedIn(ctx: OAuthContext, reply: FastifyReply, bound: BoundRequest, session: UpstreamSession) {
  return continueAfterSignIn(ctx, reply, await recordSignIn(ctx, bound, session))
}

/** POST /authorize/sign-in: the page's email-and-password form, checked by Supabase's password grant. */
export async function signInRoutes(app: FastifyInstance, { ctx }: { ctx: OAuthContext }) {
  app.post(pathOf(ctx.urls.signIn), { schema: { body: { type: 'object', additionalProperties: true } } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const bound = await loadBoundRequest(ctx, request, reply, body.handle, body.csrf)
    if (!bound) return reply
    const email = (firstString(body.email) ?? '').trim().slice(0, 320)
    const password = (firstString(body.password) ?? '').slice(0, 1024)
    if (!email || !password) return showSignIn(ctx, reply, bound, 400, 'Enter your email address and password.', email)
    const retryAfter = await app.loginRateLimiter.attempt(request, email)
    if (retryAfter !== undefined) {
      reply.header('retry-after', String(retryAfter))
      return showSignIn(ctx, reply, bound, 429, 'Too many sign-in attempts. Wait a little and try again.', email)
    }
    let session: UpstreamSession
    try {
      session = await ctx.upstream.signInWithPassword(email, password)
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error
      if (error.failure === 'unavailable') return showSignIn(ctx, reply, bound, 503, 'Sign-in is unavailable right now. Try again in a moment.', email)
      if (error.failure === 'unconfirmed') return showSignIn(ctx, reply, bound, 400, 'Confirm your email address first, then sign in.', email)
      return showSignIn(ctx, reply, bound, 400, 'Incorrect email or password.', email)
    }
    return signedIn(ctx, reply, bound, session)
  })
}
