import { randomBytes, randomUUID, sign } from 'node:crypto'
import { decodeJwt } from 'jose'
import { LocalJwtVerifier } from '../auth/strategies/local-jwt.ts'
import type { KeySource } from '../auth/strategies/key-store.ts'
import type { Config } from '../config.ts'
import { withResourceScopes } from './scopes.ts'
import type { KeyRing, SigningKey } from './signing-keys.ts'
import type { TokenResponse } from './store/types.ts'
import type { UpstreamSession } from './upstream.ts'
import type { OAuthUrls } from './urls.ts'

/** What a token is issued for: the client, the granted scope and the resource (RFC 8707). */
export interface TokenGrant {
  clientId: string
  scope: string
  resource: string
}

/**
 * Builds the token answer (RFC 6749 §5.1) for a Supabase session and a grant. Synchronous,
 * so that a code is redeemed and answered in one transaction.
 */
export type Responder = (session: UpstreamSession, grant: TokenGrant, withRefreshToken: boolean) => TokenResponse

/** OAUTH_ACCESS_TOKENS: what the authorization server hands out as access tokens. */
export interface AccessTokenIssuer {
  /** A responder ready to answer now (the signing key loaded). */
  responder(): Promise<Responder>
}

const secondsLeft = (exp: number) => Math.max(1, exp - Math.floor(Date.now() / 1000))

/** OAUTH_ACCESS_TOKENS=supabase: the Supabase access token itself, as a bearer token. */
export const supabaseAccessTokens: AccessTokenIssuer = {
  async responder() {
    return (session, grant, withRefreshToken) => ({
      access_token: session.accessToken,
      token_type: 'Bearer',
      expires_in: secondsLeft(session.expiresAt),
      scope: grant.scope,
      ...(withRefreshToken ? { refresh_token: session.refreshToken } : {}),
    })
  },
}

/** RFC 9068 §2.1: the `typ` of a JWT access token, so no other JWT passes for one. */
export const ACCESS_TOKEN_TYPE = 'at+jwt'

/** Claims every access token of ours carries beyond `iss`, `sub`, `aud`, `exp` and `role`. */
const OUR_CLAIMS = ['client_id', 'scope', 'jti', 'iat']

/**
 * The Supabase session's claims a token of ours carries on, so that row-level security sees
 * the caller exactly as with the Supabase token (`auth.uid()`, `auth.jwt()`).
 */
const SESSION_CLAIMS = ['email', 'phone', 'role', 'aal', 'amr', 'session_id', 'is_anonymous', 'app_metadata', 'user_metadata'] as const

function sessionClaims(session: UpstreamSession): Record<string, unknown> {
  let claims: Record<string, unknown> = {}
  try {
    claims = decodeJwt(session.accessToken)
  } catch {
    // Not a JWT we can read: the user id and email from the session will do.
  }
  const kept: Record<string, unknown> = {}
  for (const name of SESSION_CLAIMS) if (claims[name] !== undefined) kept[name] = claims[name]
  return { role: 'authenticated', ...(session.email ? { email: session.email } : {}), ...kept }
}

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

function signJwt(key: SigningKey, payload: Record<string, unknown>): string {
  const input = `${segment({ alg: 'ES256', typ: ACCESS_TOKEN_TYPE, kid: key.kid })}.${segment(payload)}`
  // JWS (RFC 7518 §3.4) wants the raw r || s signature, not DER.
  const signature = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
  return `${input}.${signature.toString('base64url')}`
}

/** A refresh token of ours: 256 random bits, kept by the store only as an HMAC under the token key. */
export const newRefreshToken = () => randomBytes(32).toString('base64url')

/**
 * OAUTH_ACCESS_TOKENS=bound: our own ES256 JWTs (RFC 9068), for this one resource. They
 * expire after `lifetimeSeconds`, and never later than the Supabase access token they
 * stand for, so a session ended at Supabase is felt at the next refresh. The refresh token
 * is ours too: neither Supabase token ever leaves this server (the store keeps the session
 * sealed beside our refresh token).
 */
export function boundAccessTokens(keys: KeyRing, config: Pick<Config, 'oauth'>, urls: Pick<OAuthUrls, 'issuer'>): AccessTokenIssuer {
  return {
    async responder() {
      const key = await keys.signingKey()
      return (session, grant, withRefreshToken) => {
        const now = Math.floor(Date.now() / 1000)
        const exp = Math.max(now + 1, Math.min(now + config.oauth.accessTokenLifetimeSeconds, session.expiresAt))
        const scope = withResourceScopes(grant.scope)
        const token = signJwt(key, {
          ...sessionClaims(session),
          iss: urls.issuer,
          sub: session.userId,
          aud: grant.resource,
          client_id: grant.clientId,
          scope,
          jti: randomUUID(),
          iat: now,
          exp,
        })
        return {
          access_token: token,
          token_type: 'Bearer',
          expires_in: exp - now,
          scope,
          ...(withRefreshToken ? { refresh_token: newRefreshToken() } : {}),
        }
      }
    },
  }
}

/** Checks our own access tokens: signature by one of our keys, `typ`, issuer, audience, expiry, claims. */
export function boundTokenVerifier(keys: KeySource, urls: Pick<OAuthUrls, 'issuer' | 'resource'>): LocalJwtVerifier {
  return new LocalJwtVerifier(keys, { issuer: urls.issuer, audience: urls.resource, typ: ACCESS_TOKEN_TYPE, requiredClaims: OUR_CLAIMS })
}
