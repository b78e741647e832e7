import type { FastifyInstance, FastifyReply } from 'fastify'
import {
  completeAuthorization, continueAfterSignIn, denyAuthorization, loadBoundRequest, pageClient, sendErrorPage, type BoundRequest,
} from '../authorization-flow.ts'
import { firstString, type OAuthContext } from '../context.ts'
import { pkcePair } from '../crypto.ts'
import { pageHeaders, signInPage } from '../pages.ts'
import { UpstreamError, type UpstreamSession } from '../upstream.ts'
import { pathOf } from '../urls.ts'

const formSchema = { body: { type: 'object', additionalProperties: true } } as const
/** Password attempts per client address in a 15-minute window, against guessing through this page. */
const SIGN_IN_ATTEMPTS = 30
const SIGN_IN_WINDOW_SECONDS = 900

/** Records who signed in on the pending request, then continues to consent or the client. */
export async function signedIn(ctx: OAuthContext, reply: FastifyReply, bound: BoundRequest, session: UpstreamSession) {
  const user = { id: session.userId, email: session.email }
  await ctx.store.authorizations.update(bound.handleHash, { user, session, providerVerifier: undefined })
  return continueAfterSignIn(ctx, reply, { ...bound, request: { ...bound.request, user, session, providerVerifier: undefined } })
}

/** The sign-in form's email-and-password post, the social provider links and the consent decision. */
export async function signInRoutes(app: FastifyInstance, { ctx }: { ctx: OAuthContext }) {
  const actions = {
    signIn: pathOf(`${ctx.urls.issuer}/authorize/sign-in`),
    decision: pathOf(`${ctx.urls.issuer}/authorize/consent`),
    provider: pathOf(`${ctx.urls.issuer}/authorize/provider`),
  }

  function showSignIn(reply: FastifyReply, bound: BoundRequest, status: number, error: string, email?: string) {
    return reply.code(status).headers(pageHeaders(bound.request.redirectUri)).send(
      signInPage({
        client: pageClient(bound.client, bound.request.redirectUri),
        handle: bound.handle,
        csrf: ctx.binding.csrfToken(bound.handle, bound.nonce),
        actions,
        providers: ctx.config.oauth.providers,
        email,
        error,
      }),
    )
  }

  app.post(actions.signIn, { schema: formSchema }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const bound = await loadBoundRequest(ctx, request, reply, body.handle, body.csrf)
    if (!bound) return reply
    const email = (firstString(body.email) ?? '').trim().slice(0, 320)
    const password = (firstString(body.password) ?? '').slice(0, 1024)
    if (!email || !password) return showSignIn(reply, bound, 400, 'Enter your email address and password.', email)
    if ((await ctx.store.hit(`sign-in:${request.ip}`, SIGN_IN_WINDOW_SECONDS)) > SIGN_IN_ATTEMPTS) {
      reply.header('retry-after', String(SIGN_IN_WINDOW_SECONDS))
      return showSignIn(reply, bound, 429, 'Too many sign-in attempts from this network. Wait a few minutes and try again.', email)
    }
    let session: UpstreamSession
    try {
      session = await ctx.upstream.signInWithPassword(email, password)
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error
      if (error.failure === 'unavailable') return showSignIn(reply, bound, 503, 'Sign-in is unavailable right now. Try again in a moment.', email)
      if (error.failure === 'unconfirmed') return showSignIn(reply, bound, 400, 'Confirm your email address first, then sign in.', email)
      return showSignIn(reply, bound, 400, 'Incorrect email or password.', email)
    }
    return signedIn(ctx, reply, bound, session)
  })

  app.get(actions.provider, { schema: { querystring: { type: 'object', additionalProperties: true } } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>
    const bound = await loadBoundRequest(ctx, request, reply, query.handle, query.csrf)
    if (!bound) return reply
    const provider = firstString(query.provider) ?? ''
    if (!ctx.config.oauth.providers.includes(provider)) return showSignIn(reply, bound, 400, 'This sign-in provider is not enabled.')
    const pkce = pkcePair()
    await ctx.store.authorizations.update(bound.handleHash, { providerVerifier: pkce.verifier })
    // The handle comes back in the query of our callback; the browser cookie proves it is ours.
    const back = `${ctx.urls.callback}?${new URLSearchParams({ state: bound.handle })}`
    return reply.redirect(ctx.upstream.providerUrl(provider, back, pkce.challenge), 302)
  })

  app.post(actions.decision, { schema: formSchema }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const bound = await loadBoundRequest(ctx, request, reply, body.handle, body.csrf)
    if (!bound) return reply
    if (body.decision === 'deny') return denyAuthorization(ctx, reply, bound, 'the user denied the request')
    if (body.decision !== 'approve') return sendErrorPage(reply, 400, 'No decision', 'Choose Approve or Deny.')
    if (!bound.request.user || !bound.request.session) return showSignIn(reply, bound, 400, 'Sign in first.')
    await ctx.store.consents.grant(bound.request.user.id, bound.client.clientId, bound.request.scope)
    return completeAuthorization(ctx, reply, bound)
  })
}
