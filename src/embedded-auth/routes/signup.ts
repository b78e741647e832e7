import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { bodyText, credentialFields } from '../body.ts'
import type { AuthContext } from '../context.ts'
import { badRequest, GoTrueError, validationFailed } from '../errors.ts'
import { checkPkceParams } from '../pkce-params.ts'
import { createSession, issueRefreshToken } from '../sessions.ts'
import { sessionResponse } from '../tokens.ts'
import { findUserByEmail, findUserById, hashPassword, insertUser, userJson, withIdentities } from '../users.ts'
import { EMAIL_MAX_LENGTH, isEmailAddress } from '../email.ts'

const str = (value: unknown) => (typeof value === 'string' ? value : '')

export function checkEmail(email: string): string {
  const trimmed = email.trim().toLowerCase()
  if (trimmed === '') throw validationFailed('An email address is required')
  if (trimmed.length > EMAIL_MAX_LENGTH) throw validationFailed('An email address is too long')
  if (!isEmailAddress(trimmed)) throw validationFailed('Unable to validate email address: invalid format')
  return trimmed
}

/** GoTrue's strength rules, in bytes as Go counts them (bcrypt reads no further than 72). */
export function checkPasswordStrength(password: string, minLength: number): void {
  const bytes = Buffer.byteLength(password)
  if (bytes > 72) throw validationFailed('Password cannot be longer than 72 characters')
  if (bytes < minLength) {
    throw new GoTrueError(422, 'weak_password', `Password should be at least ${minLength} characters.`, { weak_password: { reasons: ['length'] } })
  }
}

export function checkPasswordPolicy(password: string, minLength: number): void {
  if (password === '') throw validationFailed('Signup requires a valid password')
  checkPasswordStrength(password, minLength)
}

const signupSchema = {
  body: {
    type: 'object',
    properties: {
      ...credentialFields,
      data: { type: ['object', 'null'] },
      channel: bodyText,
      code_challenge: bodyText,
      code_challenge_method: bodyText,
    },
  },
} as const

export async function signupRoutes(app: FastifyInstance, { ctx }: { ctx: AuthContext }) {
  const settings = ctx.config.embeddedAuth

  app.post('/signup', { schema: signupSchema }, async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const rawEmail = str(body.email)
    const phone = str(body.phone)
    // GoTrue's order: the anonymous case is routed before sign-up itself, then the password
    // is judged before the email or phone is even looked at.
    if (!rawEmail && !phone) throw new GoTrueError(422, 'anonymous_provider_disabled', 'Anonymous sign-ins are disabled')
    if (settings.disableSignup) throw new GoTrueError(422, 'signup_disabled', 'Signups not allowed for this instance')
    const password = str(body.password)
    checkPasswordPolicy(password, settings.minPasswordLength)
    if (rawEmail && phone) throw validationFailed('Only an email address or phone number should be provided on signup.')
    const challenge = str(body.code_challenge)
    if (phone && challenge) throw validationFailed('PKCE not supported for phone signups')
    checkPkceParams(challenge, str(body.code_challenge_method))
    if (phone) throw badRequest('phone_provider_disabled', 'Phone signups are disabled')
    const email = checkEmail(rawEmail)
    const metadata = body.data && typeof body.data === 'object' && !Array.isArray(body.data) ? (body.data as Record<string, unknown>) : {}

    const existing = await findUserByEmail(ctx.db, email)
    if (existing) {
      if (settings.autoconfirm) throw new GoTrueError(422, 'user_already_exists', 'User already registered')
      // Without autoconfirm GoTrue answers as if it worked, so sign-up cannot list accounts.
      const now = new Date().toISOString()
      return { id: randomUUID(), aud: 'authenticated', role: 'authenticated', email, phone: '', confirmation_sent_at: now,
        app_metadata: { provider: 'email', providers: ['email'] }, user_metadata: metadata, identities: [], created_at: now, updated_at: now, is_anonymous: false }
    }

    const passwordHash = await hashPassword(password)
    return ctx.db.transaction(async (tx) => {
      const user = await insertUser(tx, { email, passwordHash, confirmed: settings.autoconfirm, provider: 'email', userMetadata: metadata })
      if (!settings.autoconfirm) return userJson(await withIdentities(tx, user))
      const session = await createSession(tx, user.id, 'password')
      const refreshToken = await issueRefreshToken(tx, ctx.keys.refreshTokenSecret, session, null)
      // Read back after the session: it is what set last_sign_in_at.
      const signedIn = await withIdentities(tx, (await findUserById(tx, user.id))!)
      return sessionResponse(ctx.keys, ctx.tokens, signedIn, session, refreshToken)
    }).catch((error: any) => {
      // Two sign-ups of one email at once: the unique index decides, the loser hears why.
      if (error?.code === '23505') throw new GoTrueError(422, 'user_already_exists', 'User already registered')
      throw error
    })
  })
}
