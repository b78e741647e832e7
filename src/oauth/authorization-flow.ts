import type { FastifyReply, FastifyRequest } from 'fastify'
import { firstString, TTL, type OAuthContext } from './context.ts'
import { pkcePair, randomToken } from '../crypto.ts'
import { hashNonce } from './browser-binding.ts'
import type { OAuthErrorCode } from './errors.ts'
import { consentPage, errorPage, signInPage, type PageClient } from './pages.ts'
import { HTML_CONTENT_TYPE } from '../http/html.ts'
import { allowFormRedirects, redirectSource } from '../http/page-security.ts'
import type { ClientRecord, PendingAuthorization } from './store/types.ts'
import { pathOf } from './urls.ts'

/** The browser's way back to the client: `code` or `error`, plus `state` and RFC 9207 `iss`. */
export function clientRedirect(ctx: OAuthContext, redirectUri: string, state: string | undefined, params: Record<string, string>): string {
  const url = new URL(redirectUri)
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value)
  if (state !== undefined) url.searchParams.set('state', state)
  url.searchParams.set('iss', ctx.urls.issuer)
  return url.toString()
}

export function errorRedirect(ctx: OAuthContext, redirectUri: string, state: string | undefined, code: OAuthErrorCode, description: string): string {
  return clientRedirect(ctx, redirectUri, state, { error: code, error_description: description })
}

export function sendErrorPage(reply: FastifyReply, status: number, title: string, message: string) {
  return reply.code(status).type(HTML_CONTENT_TYPE).send(errorPage(title, message))
}

export function pageClient(client: ClientRecord, redirectUri: string): PageClient {
  return { clientId: client.clientId, name: client.metadata.client_name, redirectUri, verifiedHost: client.clientId.startsWith('https://') }
}

export interface BoundRequest {
  handle: string
  request: PendingAuthorization
  client: ClientRecord
  nonce: string
}

/**
 * Loads the pending request a browser step names and checks that this browser started it
 * and, for form posts, that the CSRF token is the one its page carried. On failure the
 * answer is already sent and undefined comes back.
 */
export async function loadBoundRequest(
  ctx: OAuthContext,
  request: FastifyRequest,
  reply: FastifyReply,
  handle: unknown,
  csrf: unknown | null,
): Promise<BoundRequest | undefined> {
  const handleText = firstString(handle)
  const pending = handleText ? await ctx.store.authorizations.find(handleText) : undefined
  if (!handleText || !pending) {
    sendErrorPage(reply, 400, 'Sign-in expired', 'This sign-in request is unknown, already finished or has expired.')
    return undefined
  }
  const nonce = ctx.binding.read(request)
  if (!nonce || hashNonce(nonce) !== pending.browserHash) {
    sendErrorPage(reply, 403, 'Wrong browser', 'This sign-in was started in another browser, or this browser refused its cookie.')
    return undefined
  }
  if (csrf !== null && !ctx.binding.csrfValid(handleText, nonce, csrf)) {
    sendErrorPage(reply, 403, 'Form expired', 'This form was not sent by the sign-in page of this request. Start again from the application.')
    return undefined
  }
  const client = await ctx.findClient(pending.clientId, request.ip)
  if (!client) {
    sendErrorPage(reply, 400, 'Unknown application', 'The application that started this sign-in is no longer registered.')
    return undefined
  }
  return { handle: handleText, request: pending, client, nonce }
}

/** Ends the request: a fresh single-use code goes to the client by a redirect. */
export async function completeAuthorization(ctx: OAuthContext, reply: FastifyReply, bound: BoundRequest) {
  const taken = await ctx.store.authorizations.take(bound.handle)
  if (!taken?.session || !taken.user) return sendErrorPage(reply, 400, 'Sign-in expired', 'This sign-in request was already finished.')
  const code = randomToken()
  await ctx.store.codes.create(
    code,
    {
      clientId: taken.clientId,
      redirectUri: taken.redirectUri,
      codeChallenge: taken.codeChallenge,
      scope: taken.scope,
      resource: taken.resource,
      userId: taken.user.id,
      session: taken.session,
    },
    TTL.authorizationCode,
  )
  reply.log.info({ clientId: taken.clientId, userId: taken.user.id }, 'oauth: authorization code issued')
  return reply.redirect(clientRedirect(ctx, taken.redirectUri, taken.state, { code }), 303)
}

/** Denies the request: the client hears `access_denied`, and a session made for it ends. */
export async function denyAuthorization(ctx: OAuthContext, reply: FastifyReply, bound: BoundRequest, description: string, code: OAuthErrorCode = 'access_denied') {
  const taken = await ctx.store.authorizations.take(bound.handle)
  if (!taken) return sendErrorPage(reply, 400, 'Sign-in expired', 'This sign-in request was already finished.')
  if (taken.session) await ctx.upstream.logout(taken.session.accessToken).catch(() => {})
  reply.log.info({ clientId: taken.clientId, error: code }, 'oauth: authorization refused')
  return reply.redirect(errorRedirect(ctx, taken.redirectUri, taken.state, code, description), 303)
}

/** After a sign-in: straight to the client when this user already approved it, else ask. */
export async function continueAfterSignIn(ctx: OAuthContext, reply: FastifyReply, bound: BoundRequest) {
  const { request, client } = bound
  if (request.user && !request.promptConsent && (await ctx.store.consents.covers(request.user.id, client.clientId, request.scope))) {
    return completeAuthorization(ctx, reply, bound)
  }
  // A form redirect to another origin needs that origin in form-action: Supabase's, when the
  // approval sends the browser there to sign in.
  const signInOrigin = ctx.upstream.authorizationUrl ? (ctx.upstream.signInOrigin ?? ctx.config.effectiveSupabaseUrl) : undefined
  return allowFormRedirects(reply, [redirectSource(request.redirectUri), redirectSource(signInOrigin)])
    .code(200)
    .type(HTML_CONTENT_TYPE)
    .send(
      consentPage({
        client: pageClient(client, request.redirectUri),
        handle: bound.handle,
        csrf: ctx.binding.csrfToken(bound.handle, bound.nonce),
        decisionAction: pathOf(ctx.urls.consent),
        userEmail: request.user?.email,
        scope: request.scope,
      }),
    )
}

/**
 * The first page of a request: the sign-in page, or, where users sign in at Supabase's
 * OAuth server, the consent step that comes before sending the browser there.
 */
export function showFirstStep(ctx: OAuthContext, reply: FastifyReply, bound: BoundRequest) {
  return ctx.upstream.authorizationUrl ? continueAfterSignIn(ctx, reply, bound) : showSignIn(ctx, reply, bound, 200)
}

/** After our consent step: to Supabase's OAuth server, with this server's own PKCE pair and the handle as state. */
export async function signInAtSupabase(ctx: OAuthContext, reply: FastifyReply, bound: BoundRequest, authorizationUrl: (state: string, codeChallenge: string) => string) {
  const pkce = pkcePair()
  await ctx.store.authorizations.update(bound.handle, { providerVerifier: pkce.verifier })
  return reply.redirect(authorizationUrl(bound.handle, pkce.challenge), 303)
}

/** The sign-in page of a request, first shown by /authorize and again after a failed attempt. */
export function showSignIn(ctx: OAuthContext, reply: FastifyReply, bound: BoundRequest, status: number, error?: string, email?: string) {
  return allowFormRedirects(reply, [redirectSource(bound.request.redirectUri)]).code(status).type(HTML_CONTENT_TYPE).send(
    signInPage({
      client: pageClient(bound.client, bound.request.redirectUri),
      handle: bound.handle,
      csrf: ctx.binding.csrfToken(bound.handle, bound.nonce),
      actions: { signIn: pathOf(ctx.urls.signIn), decision: pathOf(ctx.urls.consent), provider: pathOf(ctx.urls.provider) },
      providers: ctx.config.oauth.providers,
      email,
      error,
    }),
  )
}
