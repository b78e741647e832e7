import type { FastifyInstance } from 'fastify'
import { authenticateUser } from '../authenticate.ts'
import { bodyText } from '../body.ts'
import type { AuthContext } from '../context.ts'
import { badRequest, GoTrueError } from '../errors.ts'
import { checkPhone } from '../phone.ts'
import { applyEmailChange, emailExists, emailTakenByOther, mergeMetadata, requestEmailChange, setPassword } from '../user-changes.ts'
import { checkPassword, findTokenUser, hashPassword, userJson } from '../users.ts'
import { checkEmail, checkPasswordStrength } from './signup.ts'

const str = (value: unknown) => (typeof value === 'string' ? value : '')
const metadataField = { type: ['object', 'null'] } as const

const updateSchema = {
  body: {
    type: 'object',
    properties: {
      email: bodyText,
      phone: bodyText,
      password: bodyText,
      current_password: bodyText,
      nonce: bodyText,
      channel: bodyText,
      data: metadataField,
      app_metadata: metadataField,
      code_challenge: bodyText,
      code_challenge_method: bodyText,
    },
  },
} as const

/**
 * `PUT /user` (supabase-js `updateUser`) as GoTrue runs it, for what the embedded auth has:
 * a new password (same strength rules; GoTrue's reauthentication and current-password
 * requirements are off by default, so `nonce` and `current_password` change nothing), user
 * metadata, and a new email. With AUTH_AUTOCONFIRM the email changes at once (there is no
 * mailer to confirm it with); without, it waits as `new_email`. The access token in hand
 * keeps its claims; the next refresh carries the new ones.
 */
export async function userUpdateRoutes(app: FastifyInstance, { ctx }: { ctx: AuthContext }) {
  const settings = ctx.config.embeddedAuth

  app.put('/user', { schema: updateSchema }, async (request) => {
    const { user, claims } = await authenticateUser(request, ctx.db, ctx.verify)
    const body = (request.body ?? {}) as Record<string, unknown>
    const email = str(body.email) ? checkEmail(str(body.email)) : ''
    if (str(body.phone)) checkPhone(str(body.phone))
    // A JSON null password is no change, as Go's nil pointer; an empty string is a (weak) password.
    const password = typeof body.password === 'string' ? body.password : undefined
    if (password !== undefined) checkPasswordStrength(password, settings.minPasswordLength)
    if (body.app_metadata) throw new GoTrueError(403, 'not_admin', 'Updating app_metadata requires admin privileges')
    const changesEmail = email !== '' && email !== user.email
    if (changesEmail && (await emailTakenByOther(ctx.db, email, user.id))) throw emailExists()
    if (password !== undefined && password !== '' && (await checkPassword(password, user.encrypted_password))) {
      throw new GoTrueError(422, 'same_password', 'New password should be different from the old password.')
    }
    // GoTrue would text a code to confirm a new phone; there is no SMS provider to do it.
    if (str(body.phone)) throw badRequest('phone_provider_disabled', 'Unsupported phone provider')
    const passwordHash = password === undefined ? undefined : await hashPassword(password)
    const sessionId = typeof claims.session_id === 'string' ? claims.session_id : undefined

    await ctx.db.transaction(async (tx) => {
      if (passwordHash !== undefined) await setPassword(tx, user.id, passwordHash, sessionId)
      if (body.data) await mergeMetadata(tx, user.id, 'raw_user_meta_data', body.data as Record<string, unknown>)
      if (changesEmail) {
        if (settings.autoconfirm) await applyEmailChange(tx, user, email, true)
        else await requestEmailChange(tx, user.id, email)
      }
    })
    const updated = await findTokenUser(ctx.db, user.id, undefined)
    return userJson(updated!.user)
  })
}
