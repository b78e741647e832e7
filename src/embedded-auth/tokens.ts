import { SignJWT, jwtVerify, createLocalJWKSet, type JWTPayload } from 'jose'
import type { SigningKeys } from './keys.ts'
import type { SessionRow } from './sessions.ts'
import { userJson, type UserWithIdentities } from './users.ts'

export interface TokenSettings {
  issuer: string
  expirySeconds: number
}

/** Signs an access token with GoTrue's claims, in GoTrue's order. */
export async function signAccessToken(keys: SigningKeys, settings: TokenSettings, user: UserWithIdentities, session: SessionRow) {
  const iat = Math.floor(Date.now() / 1000)
  const exp = iat + settings.expirySeconds
  const claims = {
    iss: settings.issuer,
    sub: user.id,
    aud: 'authenticated',
    exp,
    iat,
    email: user.email ?? '',
    phone: user.phone ?? '',
    app_metadata: user.raw_app_meta_data,
    user_metadata: user.raw_user_meta_data,
    role: 'authenticated',
    aal: session.aal,
    amr: session.amr,
    session_id: session.id,
    is_anonymous: user.is_anonymous,
    ...(session.oauth_client_id ? { client_id: session.oauth_client_id, scope: session.scope ?? '' } : {}),
  }
  const token = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: keys.kid, typ: 'JWT' }).sign(keys.privateKey)
  return { token, exp }
}

/** The Session JSON supabase-js expects from every grant. */
export async function sessionResponse(keys: SigningKeys, settings: TokenSettings, user: UserWithIdentities, session: SessionRow, refreshToken: string, extra: Record<string, unknown> = {}) {
  const { token, exp } = await signAccessToken(keys, settings, user, session)
  return {
    access_token: token,
    token_type: 'bearer',
    expires_in: exp - Math.floor(Date.now() / 1000),
    expires_at: exp,
    refresh_token: refreshToken,
    user: userJson(user),
    ...extra,
  }
}

/** Verifies a token this auth issued: signature, algorithm and expiry, no leeway (as GoTrue). */
export function makeVerifier(keys: SigningKeys) {
  const jwks = createLocalJWKSet({ keys: [keys.publicJwk] })
  return async (token: string): Promise<JWTPayload> => (await jwtVerify(token, jwks, { algorithms: ['ES256'] })).payload
}
