import { decodeJwt } from 'jose'
import type { Config } from '../config.ts'
import { logoutAt, supabaseAuthCaller, UpstreamError, type Upstream, type UpstreamSession } from './upstream.ts'
import { IDENTITY_SCOPES } from './scopes.ts'
import { oauthUrls } from './urls.ts'

/** The log line for a `misconfigured` failure: the operator has to fix the client credentials. */
export const MISCONFIGURED_CLIENT =
  "oauth: Supabase's OAuth server refused this server's client credentials; check SUPABASE_OAUTH_CLIENT_ID and SUPABASE_OAUTH_CLIENT_SECRET"

type UpstreamConfig = Pick<Config, 'baseUrl' | 'effectiveSupabaseUrl' | 'effectiveAnonKey' | 'upstreamTimeoutMs'>

/**
 * A token response of Supabase's OAuth server carries no user object; the access token is a
 * Supabase JWT that came straight from Supabase, so its claims name the user.
 */
function sessionFrom(body: any): UpstreamSession {
  if (typeof body?.access_token !== 'string' || typeof body?.refresh_token !== 'string') throw new UpstreamError('unavailable')
  let claims: Record<string, unknown>
  try {
    claims = decodeJwt(body.access_token)
  } catch {
    throw new UpstreamError('unavailable')
  }
  if (typeof claims.sub !== 'string') throw new UpstreamError('unavailable')
  const expiresAt = typeof claims.exp === 'number' ? claims.exp : Math.floor(Date.now() / 1000) + (Number(body.expires_in) || 3600)
  return {
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    expiresAt,
    userId: claims.sub,
    email: typeof claims.email === 'string' && claims.email ? claims.email : undefined,
  }
}

/**
 * OAUTH_UPSTREAM=supabase-oauth: users sign in at Supabase's OAuth 2.1 server, where this
 * server is one confidential client (client_secret_basic) with its own PKCE pair per request.
 * Codes and refresh tokens go through Supabase's OAuth token endpoint; sessions end through
 * GoTrue's logout like every Supabase session.
 */
export function createSupabaseOAuthUpstream(config: UpstreamConfig, client: { id: string; secret: string }): Upstream {
  const authUrl = `${config.effectiveSupabaseUrl}/auth/v1`
  const callback = oauthUrls(config.baseUrl).callback
  const call = supabaseAuthCaller(config)
  const token = async (form: Record<string, string>) => sessionFrom(await call('/oauth/token', { form, basic: client }))

  return {
    async signInWithPassword() {
      // This upstream has no password form; the sign-in happens at Supabase.
      throw new UpstreamError('rejected')
    },
    refresh: (refreshToken) => token({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    exchangeCode: (code, codeVerifier) => token({ grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: callback }),
    logout: (accessToken) => logoutAt(call, accessToken),
    providerUrl() {
      throw new Error('social providers are offered by Supabase\'s own sign-in with OAUTH_UPSTREAM=supabase-oauth')
    },
    authorizationUrl(state, codeChallenge) {
      const url = new URL(`${authUrl}/oauth/authorize`)
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: client.id,
        redirect_uri: callback,
        state,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
        scope: IDENTITY_SCOPES.join(' '),
      }).toString()
      return url.toString()
    },
  }
}
