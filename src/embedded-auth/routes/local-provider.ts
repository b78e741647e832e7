import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { SignJWT, jwtVerify } from 'jose'
import { html, HTML_CONTENT_TYPE, page } from '../../http/html.ts'
import { fromLoopback } from '../../http/loopback.ts'
import { allowFormRedirects } from '../../http/page-security.ts'
import type { AuthContext } from '../context.ts'
import { EMAIL_MAX_LENGTH, isEmailAddress } from '../email.ts'

/**
 * The local sign-in page that stands in for a social provider (GitHub, Google, ...), which
 * cannot be reached from a development machine. It plays the provider's part of the
 * redirect dance so `/authorize` and `/callback` run exactly as they would for real.
 *
 * It vouches for whatever email is typed, without a password. So it exists only when
 * AUTH_EXTERNAL_PROVIDERS lists providers (which needs a loopback HOST), answers only
 * requests from this machine, and its identities are never linked to an existing account
 * by email (see `findOrCreateUser`).
 */
export const LOCAL_PROVIDER_PATH = '/local-provider'

/**
 * Browsers apply `form-action` to every redirect that follows a form post, and this form's
 * post ends, through /callback, at the app's own URL on another origin; `'self'` alone
 * would stop the sign-in at that last step.
 */
const APP_ORIGINS = ['http:', 'https:']

const CODE_AUDIENCE = 'embedded-auth-callback'
const CODE_TTL_SECONDS = 120

export interface ProviderIdentity {
  email: string
  name: string
  providerId: string
}

const providerLabel = (provider: string) => provider.charAt(0).toUpperCase() + provider.slice(1)

/** A provider account id that is stable for an email, as a real provider's user id is. */
const providerIdFor = (provider: string, email: string) => createHash('sha256').update(`${provider}:${email}`).digest('hex').slice(0, 20)

/** Reads a code the sign-in page issued for this flow (`state`) and provider; anything else is undefined. */
export async function readProviderCode(ctx: AuthContext, code: string, flow: { id: string; provider: string }): Promise<ProviderIdentity | undefined> {
  if (!code) return undefined
  try {
    const { payload } = await jwtVerify(code, ctx.keys.localProviderSecret, {
      algorithms: ['HS256'],
      audience: CODE_AUDIENCE,
      issuer: `${ctx.externalUrl}${LOCAL_PROVIDER_PATH}`,
    })
    // Bound to its flow, as a real provider binds a code to its client: it opens no other sign-in.
    if (payload.provider !== flow.provider || payload.state !== flow.id || typeof payload.email !== 'string') return undefined
    return { email: payload.email, name: String(payload.name ?? ''), providerId: String(payload.sub) }
  } catch {
    return undefined
  }
}

const pageQuerySchema = {
  type: 'object',
  properties: { provider: { type: 'string' }, state: { type: 'string' }, redirect_uri: { type: 'string' }, scope: { type: 'string' } },
} as const

export async function localProviderRoutes(app: FastifyInstance, { ctx }: { ctx: AuthContext }) {
  const callbackUrl = `${ctx.externalUrl}/callback`
  const enabled = ctx.config.embeddedAuth.externalProviders

  app.addHook('onRequest', async (request, reply) => {
    if (fromLoopback(request)) return
    return reply
      .code(403)
      .type(HTML_CONTENT_TYPE)
      .send(page('Sign-in error', html`<h1>Sign-in error</h1><p class="error">This development sign-in page answers only on the machine that runs the server.</p>`))
  })

  function render(params: Record<string, string | undefined>, error?: string) {
    const label = providerLabel(params.provider ?? '')
    return page(
      `Sign in with ${label}`,
      html`<h1>Sign in with ${label}</h1>
<p class="note">Local stand-in for ${label} sign-in, served by the embedded auth of atoms-mcp for development on this machine. No password is asked; an email address that already has an account is refused.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="${ctx.externalUrl}${LOCAL_PROVIDER_PATH}/authorize">
<input type="hidden" name="provider" value="${params.provider}">
<input type="hidden" name="state" value="${params.state}">
<input type="hidden" name="redirect_uri" value="${params.redirect_uri}">
<label for="email">Email</label><input id="email" name="email" type="email" required autocomplete="email" value="${(params.email ?? '').slice(0, EMAIL_MAX_LENGTH)}">
<label for="name">Name</label><input id="name" name="name" type="text" autocomplete="name" value="${params.name ?? ''}">
<div class="row"><button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Cancel</button><button type="submit" name="action" value="approve">Continue</button></div>
</form>`,
    )
  }

  app.get(`${LOCAL_PROVIDER_PATH}/authorize`, { schema: { querystring: pageQuerySchema } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>
    if (query.redirect_uri !== callbackUrl || !query.state || !query.provider || !enabled.includes(query.provider)) {
      return reply.code(400).type(HTML_CONTENT_TYPE).send(page('Sign-in error', html`<h1>Sign-in error</h1><p class="error">This sign-in link is incomplete or was not issued by this server.</p>`))
    }
    return allowFormRedirects(reply, APP_ORIGINS).type(HTML_CONTENT_TYPE).send(render(query))
  })

  app.post(`${LOCAL_PROVIDER_PATH}/authorize`, { schema: { body: { type: 'object' } } }, async (request, reply) => {
    const body = Object.fromEntries(
      Object.entries((request.body ?? {}) as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]),
    ) as Record<string, string | undefined>
    if (body.redirect_uri !== callbackUrl || !body.state || !body.provider || !enabled.includes(body.provider)) {
      return reply.code(400).type(HTML_CONTENT_TYPE).send(page('Sign-in error', html`<h1>Sign-in error</h1><p class="error">This sign-in form is incomplete or was not issued by this server.</p>`))
    }
    const back = new URL(callbackUrl)
    back.searchParams.set('state', body.state)
    if (body.action === 'cancel') {
      back.searchParams.set('error', 'access_denied')
      back.searchParams.set('error_description', 'The user cancelled the sign-in')
      return reply.redirect(back.toString(), 302)
    }
    const email = (body.email ?? '').trim().toLowerCase()
    if (email.length > EMAIL_MAX_LENGTH) {
      return allowFormRedirects(reply, APP_ORIGINS).code(400).type(HTML_CONTENT_TYPE).send(render(body, `Enter an email address of at most ${EMAIL_MAX_LENGTH} characters.`))
    }
    if (!isEmailAddress(email)) {
      return allowFormRedirects(reply, APP_ORIGINS).code(400).type(HTML_CONTENT_TYPE).send(render(body, 'Enter a valid email address.'))
    }
    const name = (body.name ?? '').trim().slice(0, 200)
    const code = await new SignJWT({ email, name, provider: body.provider, state: body.state })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(providerIdFor(body.provider, email))
      .setAudience(CODE_AUDIENCE)
      .setIssuer(`${ctx.externalUrl}${LOCAL_PROVIDER_PATH}`)
      .setIssuedAt()
      .setExpirationTime(`${CODE_TTL_SECONDS}s`)
      .sign(ctx.keys.localProviderSecret)
    back.searchParams.set('code', code)
    return reply.redirect(back.toString(), 302)
  })
}
