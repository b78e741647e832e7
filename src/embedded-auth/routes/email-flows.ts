import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { authenticateUser } from '../authenticate.ts'
import { bodyText } from '../body.ts'
import type { AuthContext } from '../context.ts'
import { badRequest, GoTrueError, validationFailed } from '../errors.ts'
import { checkPhone } from '../phone.ts'
import { checkPkceParams } from '../pkce-params.ts'
import { chooseRedirect } from '../redirects.ts'
import { checkEmail } from './signup.ts'

/**
 * The routes of Supabase Auth that send an email or an SMS. The embedded auth has neither a
 * mailer nor an SMS provider, so each answers as GoTrue answers when nothing is to be sent
 * (an unknown address gets `{}` so nobody can list accounts, and a known one gets the same),
 * or with GoTrue's own error for the switch that is off (magic links, phone).
 */
const str = (value: unknown) => (typeof value === 'string' ? value : '')

const magicLinkDisabled = () => new GoTrueError(422, 'email_provider_disabled', 'Login with magic link is disabled')

/** The verification types GoTrue accepts as a token hash from an email link. */
const EMAIL_LINK_TYPES = ['signup', 'invite', 'recovery', 'magiclink', 'email_change', 'email']

const OAUTH_ERRORS: Record<number, string> = { 400: 'invalid_request', 401: 'unauthorized_client', 403: 'access_denied', 500: 'server_error', 503: 'temporarily_unavailable' }

const pkceFields = { code_challenge: bodyText, code_challenge_method: bodyText }
const recoverSchema = { body: { type: 'object', properties: { email: bodyText, ...pkceFields } } } as const
const otpSchema = {
  body: {
    type: 'object',
    properties: { email: bodyText, phone: bodyText, create_user: { type: ['boolean', 'null'] }, data: { type: ['object', 'null'] }, channel: bodyText, ...pkceFields },
  },
} as const
const verifySchema = {
  body: { type: 'object', properties: { type: bodyText, token: bodyText, token_hash: bodyText, email: bodyText, phone: bodyText, redirect_to: bodyText } },
} as const
const verifyQuerySchema = { querystring: { type: 'object', properties: { type: { type: 'string' }, token: { type: 'string' }, redirect_to: { type: 'string' } } } } as const
const resendSchema = { body: { type: 'object', properties: { type: bodyText, email: bodyText, phone: bodyText, ...pkceFields } } } as const

export async function emailFlowRoutes(app: FastifyInstance, { ctx }: { ctx: AuthContext }) {
  const settings = ctx.config.embeddedAuth

  app.post('/recover', { schema: recoverSchema }, async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    if (!str(body.email)) throw validationFailed('Password recovery requires an email')
    checkEmail(str(body.email))
    checkPkceParams(str(body.code_challenge), str(body.code_challenge_method))
    request.log.info('embedded auth: password recovery asked for; no email is sent (the embedded auth has no mailer)')
    return {}
  })

  app.post('/otp', { schema: otpSchema }, async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const email = str(body.email)
    const phone = str(body.phone)
    if (email && phone) throw validationFailed('Only an email address or phone number should be provided')
    if (email && str(body.channel)) throw validationFailed('Channel should only be specified with Phone OTP')
    checkPkceParams(str(body.code_challenge), str(body.code_challenge_method))
    // GoTrue looks the address up here when create_user is false; the answer below is the
    // same either way, so it is only checked, and whether an account exists stays unsaid.
    if (body.create_user === false && email) checkEmail(email)
    if (body.create_user === false && phone) checkPhone(phone)
    if (email) throw magicLinkDisabled()
    if (phone) throw badRequest('phone_provider_disabled', 'Unsupported phone provider')
    throw validationFailed('One of email or phone must be set')
  })

  app.post('/magiclink', async () => {
    throw magicLinkDisabled()
  })

  app.post('/verify', { schema: verifySchema }, async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const [type, token, tokenHash, email, phone] = ['type', 'token', 'token_hash', 'email', 'phone'].map((key) => str(body[key]))
    if (!type) throw validationFailed('Verify requires a verification type')
    if (!token === !tokenHash) throw validationFailed('Verify requires either a token or a token hash')
    if (token) {
      if (phone && !email) checkPhone(phone)
      else if (email && !phone) {
        try {
          checkEmail(email)
        } catch {
          throw new GoTrueError(422, 'validation_failed', 'Invalid email format')
        }
      } else throw validationFailed('Only an email address or phone number should be provided on verify')
      // No one-time password is ever issued here, so none matches.
      throw new GoTrueError(403, 'otp_expired', 'Token has expired or is invalid')
    }
    if (email || phone || str(body.redirect_to)) throw validationFailed('Only the token_hash and type should be provided')
    if (!EMAIL_LINK_TYPES.includes(type)) throw validationFailed('Invalid email verification type')
    throw new GoTrueError(403, 'otp_expired', 'Email link is invalid or has expired')
  })

  // The link in an email: a browser opens it, so failures go back to the app as a redirect.
  app.get('/verify', { schema: verifyQuerySchema }, async (request: FastifyRequest, reply: FastifyReply) => {
    const query = request.query as Record<string, string | undefined>
    const type = query.type ?? ''
    const token = query.token ?? ''
    if (!type) throw validationFailed('Verify requires a verification type')
    if (!token) throw validationFailed('Verify requires a token or a token hash')
    const header = request.headers.redirect_to
    const redirectTo = chooseRedirect(typeof header === 'string' && header ? header : query.redirect_to, request.headers.referer, settings.siteUrl, settings.uriAllowList)
    const failure = EMAIL_LINK_TYPES.includes(type)
      ? new GoTrueError(403, 'otp_expired', 'Email link is invalid or has expired')
      : validationFailed('Invalid email verification type')
    const params = { error: OAUTH_ERRORS[failure.status]!, error_code: failure.code, error_description: failure.message }
    const url = new URL(redirectTo)
    if (token.startsWith('pkce_')) for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value)
    url.hash = new URLSearchParams({ ...params, sb: '' }).toString()
    return reply.redirect(url.toString(), 303)
  })

  app.post('/resend', { schema: resendSchema }, async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const [type, email, phone] = ['type', 'email', 'phone'].map((key) => str(body[key]))
    if (type === 'signup' || type === 'email_change') checkPkceParams(str(body.code_challenge), str(body.code_challenge_method))
    else if (type !== 'sms' && type !== 'phone_change') throw validationFailed('Missing one of these types: signup, email_change, sms, phone_change')
    if (!email && type === 'signup') throw validationFailed('Type provided requires an email address')
    if (!phone && type === 'sms') throw validationFailed('Type provided requires a phone number')
    if (email && phone) throw validationFailed('Only an email address or phone number should be provided.')
    if (phone) throw badRequest('phone_provider_disabled', 'Phone logins are disabled')
    if (!email) throw validationFailed('Missing email address or phone number')
    checkEmail(email)
    return {}
  })

  app.get('/reauthenticate', async (request) => {
    const { user } = await authenticateUser(request, ctx.db, ctx.verify)
    if (!user.email) throw validationFailed('Reauthentication requires the user to have an email or a phone number')
    if (!user.email_confirmed_at) throw new GoTrueError(422, 'email_not_confirmed', 'Please verify your email first.')
    // Password changes do not ask for a nonce here (GoTrue's secure password change is off),
    // so there is nothing to send.
    return {}
  })
}
