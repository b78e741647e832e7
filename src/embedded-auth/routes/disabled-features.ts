import type { FastifyInstance, FastifyRequest } from 'fastify'
import { authenticateUser, isUuid } from '../authenticate.ts'
import { bodyText } from '../body.ts'
import type { AuthContext } from '../context.ts'
import { GoTrueError, validationFailed } from '../errors.ts'

/**
 * Features of Supabase Auth the embedded auth does not offer, answered as GoTrue answers
 * with each of them turned off, in its order of checks (authentication first where GoTrue
 * mounts the route behind it). Clients read these codes: a 404 `not_found` would say the
 * server is not Supabase Auth at all.
 */
const samlDisabled = () => new GoTrueError(404, 'saml_provider_disabled', 'SAML 2.0 is disabled')
const manualLinkingDisabled = () => new GoTrueError(404, 'manual_linking_disabled', 'Manual linking is disabled')
const passkeysDisabled = () => new GoTrueError(404, 'passkey_disabled', 'Passkeys are disabled')

const ENROLL_DISABLED: Record<string, [code: string, label: string]> = {
  totp: ['mfa_totp_enroll_not_enabled', 'TOTP'],
  phone: ['mfa_phone_enroll_not_enabled', 'Phone'],
  webauthn: ['mfa_webauthn_enroll_not_enabled', 'WebAuthn'],
}

const factorIdParams = { type: 'object', properties: { factor_id: { type: 'string' } } } as const
const enrollSchema = {
  body: { type: 'object', properties: { factor_type: bodyText, friendly_name: bodyText, issuer: bodyText, phone: bodyText } },
} as const

export async function disabledFeatureRoutes(app: FastifyInstance, { ctx }: { ctx: AuthContext }) {
  const authenticate = (request: FastifyRequest) => authenticateUser(request, ctx.db, ctx.verify)

  /** GoTrue's `requireNotAnonymous`, which guards every MFA route after authentication. */
  async function authenticateNotAnonymous(request: FastifyRequest) {
    const { claims } = await authenticate(request)
    if (claims.is_anonymous === true) throw new GoTrueError(403, 'no_authorization', 'Anonymous user not allowed to perform these actions')
  }

  for (const [method, url] of [['POST', '/sso'], ['GET', '/sso/saml/metadata'], ['POST', '/sso/saml/acs']] as const) {
    app.route({ method, url, handler: async () => { throw samlDisabled() } })
  }

  app.get('/user/identities/authorize', async (request) => {
    await authenticate(request)
    throw manualLinkingDisabled()
  })
  app.delete('/user/identities/:identity_id', async (request) => {
    await authenticate(request)
    throw manualLinkingDisabled()
  })

  app.post('/factors', { schema: enrollSchema }, async (request) => {
    await authenticateNotAnonymous(request)
    const factorType = (request.body as { factor_type?: string | null } | null)?.factor_type ?? ''
    const disabled = Object.hasOwn(ENROLL_DISABLED, factorType) ? ENROLL_DISABLED[factorType] : undefined
    if (!disabled) throw validationFailed('factor_type needs to be totp, phone, or webauthn')
    throw new GoTrueError(422, disabled[0], `MFA enroll is disabled for ${disabled[1]}`)
  })
  // No factor can ever be enrolled, so every factor id names none.
  const noSuchFactor = async (request: FastifyRequest) => {
    await authenticateNotAnonymous(request)
    if (!isUuid((request.params as { factor_id?: string }).factor_id)) throw new GoTrueError(404, 'validation_failed', 'factor_id must be an UUID')
    throw new GoTrueError(404, 'mfa_factor_not_found', 'Factor not found')
  }
  app.post('/factors/:factor_id/verify', { schema: { params: factorIdParams } }, noSuchFactor)
  app.post('/factors/:factor_id/challenge', { schema: { params: factorIdParams } }, noSuchFactor)
  app.delete('/factors/:factor_id', { schema: { params: factorIdParams } }, noSuchFactor)

  // GoTrue checks the passkey switch before anything else on the whole route group.
  for (const [method, url] of [
    ['POST', '/passkeys/authentication/options'],
    ['POST', '/passkeys/authentication/verify'],
    ['POST', '/passkeys/registration/options'],
    ['POST', '/passkeys/registration/verify'],
    ['GET', '/passkeys'],
    ['PATCH', '/passkeys/:passkey_id'],
    ['DELETE', '/passkeys/:passkey_id'],
  ] as const) {
    app.route({ method, url, handler: async () => { throw passkeysDisabled() } })
  }
}
