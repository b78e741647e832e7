import { createHmac } from 'node:crypto'
import { safeEqual } from '../../crypto.ts'
import type { FastifyInstance } from 'fastify'
import { html, HTML_CONTENT_TYPE, page } from '../../http/html.ts'
import { allowFormRedirects, redirectSource } from '../../http/page-security.ts'
import type { Queryable } from '../../db/db.ts'
import type { AuthContext } from '../context.ts'
import { checkPassword, findUserByEmail, isBanned } from '../users.ts'
import { approve, deny, findPendingAuthorization, type AuthorizationRow } from './authorizations.ts'
import { findClient } from './clients.ts'

/**
 * The consent page a Supabase project hosts in its own web app (at the OAuth server's
 * authorization path), here as a local stand-in: the user signs in with email and password
 * and approves or denies the client's request.
 */
export const LOCAL_CONSENT_PATH = '/local-consent'

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Confirm your identity',
  email: 'See your email address',
  profile: 'See your name and profile',
  phone: 'See your phone number',
  offline_access: 'Stay signed in',
}

export async function consentPageRoutes(app: FastifyInstance, { ctx }: { ctx: AuthContext }) {
  const formToken = (authorizationId: string) =>
    createHmac('sha256', ctx.keys.consentFormSecret).update(authorizationId).digest('base64url')
  const tokenMatches = (authorizationId: string, token: unknown) => typeof token === 'string' && safeEqual(formToken(authorizationId), token)
  const errorPage = (message: string) =>
    page('Authorization error', html`<h1>Authorization error</h1><p class="error" role="alert">${message}</p>`)

  async function render(db: Queryable, authorization: AuthorizationRow, error?: string, email?: string) {
    const client = await findClient(db, authorization.client_id)
    const name = client?.client_name || client?.id || 'An application'
    const scopes = authorization.scope.split(' ').map((s) => html`<li>${SCOPE_TEXT[s] ?? s}</li>`)
    return page(
      `Authorize ${name}`,
      html`<h1>Authorize ${name}</h1>
<p class="note">Local stand-in for a project's consent page, served by the embedded auth of atoms-mcp.
${name} will be sent back to ${new URL(authorization.redirect_uri).origin}.</p>
<ul>${scopes}</ul>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="${ctx.externalUrl}${LOCAL_CONSENT_PATH}">
<input type="hidden" name="authorization_id" value="${authorization.id}">
<input type="hidden" name="form_token" value="${formToken(authorization.id)}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="email" value="${email ?? ''}" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<div class="row"><button type="submit" name="action" value="deny" class="secondary" formnovalidate>Deny</button><button type="submit" name="action" value="approve">Approve</button></div>
</form>`,
    )
  }

  app.get(LOCAL_CONSENT_PATH, { schema: { querystring: { type: 'object', properties: { authorization_id: { type: 'string' } } } } }, async (request, reply) => {
    const authorization = await findPendingAuthorization(ctx.db, (request.query as { authorization_id?: string }).authorization_id)
    reply.type(HTML_CONTENT_TYPE)
    if (!authorization) return reply.code(404).send(errorPage('This authorization request does not exist or has expired.'))
    return allowFormRedirects(reply, [redirectSource(authorization.redirect_uri)]).send(await render(ctx.db, authorization))
  })

  app.post(LOCAL_CONSENT_PATH, { schema: { body: { type: 'object' } } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    reply.type(HTML_CONTENT_TYPE)
    const id = typeof body.authorization_id === 'string' ? body.authorization_id : ''
    if (!tokenMatches(id, body.form_token)) return reply.code(400).send(errorPage('This form did not come from this server.'))
    const email = typeof body.email === 'string' ? body.email.trim() : ''
    const password = typeof body.password === 'string' ? body.password : ''
    const retryAfter = await app.loginRateLimiter.attempt(request, email)
    if (retryAfter !== undefined) {
      const authorization = await findPendingAuthorization(ctx.db, id)
      if (!authorization) return reply.code(404).send(errorPage('This authorization request does not exist or has expired.'))
      const again = await render(ctx.db, authorization, 'Too many sign-in attempts. Wait a little and try again.', email)
      return allowFormRedirects(reply, [redirectSource(authorization.redirect_uri)]).code(429).header('retry-after', String(retryAfter)).send(again)
    }
    // bcrypt takes tens of milliseconds: it runs before the transaction, not while holding it.
    const user = email ? await findUserByEmail(ctx.db, email) : undefined
    const passwordMatches = await checkPassword(password, user?.encrypted_password)
    type Outcome = { redirect: string } | { status: number; page: string; formRedirectsTo?: string }
    const outcome = await ctx.db.transaction(async (tx): Promise<Outcome> => {
      const authorization = await findPendingAuthorization(tx, id)
      if (!authorization) return { status: 404, page: errorPage('This authorization request does not exist or has expired.') }
      if (!passwordMatches || !user || isBanned(user) || !user.email_confirmed_at) {
        return { status: 401, page: await render(tx, authorization, 'Invalid login credentials', email), formRedirectsTo: authorization.redirect_uri }
      }
      if (authorization.user_id && authorization.user_id !== user.id) {
        return { status: 403, page: errorPage('This authorization request belongs to another user.') }
      }
      return { redirect: body.action === 'approve' ? await approve(tx, authorization, user.id) : await deny(tx, authorization, user.id) }
    })
    if ('redirect' in outcome) return reply.redirect(outcome.redirect, 302)
    return allowFormRedirects(reply, [redirectSource(outcome.formRedirectsTo)]).code(outcome.status).send(outcome.page)
  })
}
