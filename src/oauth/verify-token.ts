import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose'
import type { Config } from '../config.ts'
import { InvalidTokenError, UpstreamUnavailableError } from '../auth/errors.ts'
import type { UserContext } from '../auth/user-context.ts'
import { IDENTITY_SCOPES } from './scopes.ts'

export type AccessTokenVerifier = (token: string) => Promise<JWTPayload>

/**
 * Verifies a Supabase access token locally: signature against the project's JWKS (or the
 * legacy HS256 secret), issuer and audience. Key-source failures are "unavailable", never
 * "invalid", so an outage does not log everyone out.
 */
export function supabaseTokenVerifier(config: Pick<Config, 'jwksUrl' | 'jwtIssuer' | 'jwtAudience' | 'supabaseJwtSecret' | 'upstreamTimeoutMs'>): AccessTokenVerifier {
  const key: JWTVerifyGetKey | Uint8Array | undefined = config.jwksUrl
    ? createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: config.upstreamTimeoutMs })
    : config.supabaseJwtSecret
      ? new TextEncoder().encode(config.supabaseJwtSecret)
      : undefined
  return async (token) => {
    if (!key) throw new UpstreamUnavailableError('no key source is configured to verify access tokens')
    try {
      const options = { issuer: config.jwtIssuer, audience: config.jwtAudience, algorithms: ['ES256', 'RS256', 'HS256'] }
      const { payload } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options)
      if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') throw new InvalidTokenError('the access token has no subject or expiry')
      return payload
    } catch (error) {
      if (error instanceof InvalidTokenError) throw error
      if (error instanceof joseErrors.JWKSTimeout || (error instanceof Error && !(error instanceof joseErrors.JOSEError))) {
        throw new UpstreamUnavailableError('the signing keys of Supabase Auth cannot be fetched')
      }
      throw new InvalidTokenError('the access token is invalid or expired')
    }
  }
}

export function userContextFrom(token: string, claims: JWTPayload): UserContext {
  return {
    userId: claims.sub!,
    email: typeof claims.email === 'string' && claims.email ? claims.email : undefined,
    role: typeof claims.role === 'string' ? claims.role : 'authenticated',
    sessionId: typeof claims.session_id === 'string' ? claims.session_id : undefined,
    aal: typeof claims.aal === 'string' ? claims.aal : undefined,
    claims: claims as Record<string, unknown>,
    accessToken: token,
    expiresAt: claims.exp!,
    scopes: [...IDENTITY_SCOPES],
    mode: 'oauth',
  }
}
