import type { FastifyRequest } from 'fastify'
import { authenticateUser } from '../authenticate.ts'
import type { AuthContext } from '../context.ts'
import { GoTrueError, validationFailed } from '../errors.ts'
import { OAuthServerError } from '../oauth-server/errors.ts'

/**
 * The `/token` grants the embedded auth does not offer, answered as GoTrue answers with
 * their providers off: `id_token` (sign-in with a provider's ID token, which would need the
 * provider's keys) and `web3`. Anything else is GoTrue's unsupported grant.
 */
const str = (value: unknown) => (typeof value === 'string' ? value : '')

const GOOGLE = 'https://accounts.google.com'
const FACEBOOK = 'https://www.facebook.com'
/** Providers after Keycloak in GoTrue's order, with the issuer each is fixed to. */
const LATER_ISSUERS: [string, string][] = [
  ['kakao', 'https://kauth.kakao.com'],
  ['vercel_marketplace', 'https://marketplace.vercel.com'],
  ['snapchat', 'https://accounts.snapchat.com/accounts/oauth2/token'],
]
const APPLE_ISSUERS = ['https://appleid.apple.com', 'https://account.apple.com']
const AZURE_ISSUER = /^https:\/\/login[.]microsoftonline[.]com\/([^/]+)\/v2[.]0\/?$/

/** The `iss` of an ID token, read without verifying it (as GoTrue does to pick Apple's or Azure's keys). */
function detectIssuer(idToken: string): string | undefined {
  const parts = idToken.split('.')
  if (parts.length !== 3) return undefined
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'))
    return payload && typeof payload === 'object' && typeof payload.iss === 'string' ? payload.iss : ''
  } catch {
    return undefined
  }
}

function detectedIssuer(idToken: string, given: string, label: string, accepts: (issuer: string) => boolean): string {
  const detected = detectIssuer(idToken)
  if (detected === undefined) throw validationFailed(`Unable to detect issuer in ID token for ${label} provider`)
  if (!accepts(detected)) throw validationFailed(`Detected ID token issuer is not an ${label} ID token issuer`)
  if (given && given !== detected) throw validationFailed('Provided issuer does not match ID token issuer')
  return detected
}

/** The issuer GoTrue would check an ID token against (in its order of providers), or its error. */
function idTokenIssuer(provider: string, issuer: string, idToken: string): string {
  if (provider === 'apple' || APPLE_ISSUERS.includes(issuer)) return detectedIssuer(idToken, issuer, 'Apple', (iss) => APPLE_ISSUERS.includes(iss))
  if (provider === 'google' || issuer === GOOGLE) return GOOGLE
  if (provider === 'azure' || AZURE_ISSUER.test(issuer)) {
    return detectedIssuer(idToken, issuer, 'Azure', (iss) => iss.startsWith('https://login.microsoftonline.com/') || iss.startsWith('https://sts.windows.net/'))
  }
  if (provider === 'facebook' || issuer === FACEBOOK) return FACEBOOK
  // No Keycloak URL is configured here, so its issuer is empty.
  if (provider === 'keycloak') return ''
  const later = LATER_ISSUERS.find(([name, fixed]) => provider === name || issuer === fixed)
  if (later) return later[1]
  if (provider.startsWith('custom:')) throw validationFailed('Custom OAuth providers are disabled')
  throw validationFailed(`Custom OIDC provider ${JSON.stringify(provider)} not allowed`)
}

async function idTokenGrant(body: Record<string, unknown>, request: FastifyRequest, ctx: AuthContext): Promise<never> {
  const idToken = str(body.id_token)
  const provider = str(body.provider)
  const issuer = str(body.issuer)
  if (!idToken) throw new OAuthServerError('invalid request', 'id_token required')
  if (!provider && (!str(body.client_id) || !issuer)) throw new OAuthServerError('invalid request', 'provider or client_id and issuer required')
  if (body.link_identity === true) {
    if (!request.headers.authorization) throw new OAuthServerError('invalid request', 'Linking requires a valid user access token in Authorization')
    await authenticateUser(request, ctx.db, ctx.verify)
  }
  const expected = idTokenIssuer(provider, issuer, idToken)
  throw new GoTrueError(400, 'provider_disabled', `Provider (issuer ${JSON.stringify(expected)}) is not enabled`)
}

/** The error for a grant type the `/token` route does not serve itself. */
export async function unservedGrant(grantType: string | undefined, body: Record<string, unknown>, request: FastifyRequest, ctx: AuthContext): Promise<never> {
  if (grantType === 'id_token') return idTokenGrant(body, request, ctx)
  if (grantType === 'web3') throw new GoTrueError(422, 'web3_provider_disabled', 'Web3 provider is disabled')
  throw new GoTrueError(400, 'invalid_credentials', 'unsupported_grant_type')
}
