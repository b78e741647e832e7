import type { Config } from '../config.ts'

/** A Supabase session as this server keeps and hands it on. */
export interface UpstreamSession {
  accessToken: string
  refreshToken: string
  /** Unix seconds. */
  expiresAt: number
  userId: string
  email: string | undefined
}

/**
 * Why Supabase Auth said no, in this server's words; Supabase's own text is never passed
 * on. `credentials`: wrong email or password. `grant`: the refresh token or code is not
 * (or no longer) valid. `unavailable`: timeout, network failure, 5xx or rate limit.
 * `misconfigured`: Supabase's OAuth server refused this server's own client credentials.
 * `rejected`: any other refusal.
 */
export type UpstreamFailure = 'credentials' | 'unconfirmed' | 'grant' | 'unavailable' | 'misconfigured' | 'rejected'

/** Failures that are the server's or Supabase's problem, never the user's or the client's. */
export const isOutage = (failure: UpstreamFailure) => failure === 'unavailable' || failure === 'misconfigured'

export class UpstreamError extends Error {
  readonly failure: UpstreamFailure
  readonly status: number | undefined
  constructor(failure: UpstreamFailure, status?: number) {
    super(`Supabase Auth refused the request (${failure}${status ? `, HTTP ${status}` : ''})`)
    this.name = 'UpstreamError'
    this.failure = failure
    this.status = status
  }
}

/** What an upstream may need once before the server answers. */
export interface UpstreamStart {
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void }
  /** The service-role key of Supabase Auth's admin API (the embedded auth's when SUPABASE_URL is unset). */
  serviceRoleKey: string | undefined
}

export interface Upstream {
  signInWithPassword(email: string, password: string): Promise<UpstreamSession>
  refresh(refreshToken: string): Promise<UpstreamSession>
  /**
   * Exchanges the code of a social sign-in (GoTrue `grant_type=pkce`). `callback` is the whole
   * query the browser came back with, for upstreams that check more than the code (RFC 9207 `iss`).
   */
  exchangeCode(authCode: string, codeVerifier: string, callback?: URLSearchParams): Promise<UpstreamSession>
  /** Ends the one session the access token belongs to. */
  logout(accessToken: string): Promise<void>
  /** Where the browser goes to sign in with a social provider. */
  providerUrl(provider: string, redirectTo: string, codeChallenge: string): string
  /**
   * Only where users sign in at Supabase's OAuth server (OAUTH_UPSTREAM=supabase-oauth): its
   * authorization URL for this server's client; the code comes back to /auth/callback.
   */
  authorizationUrl?(state: string, codeChallenge: string): string
  /** The origin `authorizationUrl` leads to, when it is not Supabase's. */
  signInOrigin?: string
  /** Runs once before the server answers; a failure stops the start with one clear line. */
  start?(deps: UpstreamStart): Promise<void>
}

const GRANT_CODES = new Set([
  'refresh_token_not_found', 'refresh_token_already_used', 'session_not_found', 'session_expired', 'flow_state_not_found',
  'flow_state_expired', 'bad_code_verifier', 'user_banned', 'user_not_found', 'bad_jwt',
])

function classify(status: number, body: any): UpstreamFailure {
  const code: string | undefined = body?.error_code ?? body?.code
  if (status >= 500 || status === 429 || status === 408) return 'unavailable'
  // The OAuth server's token endpoint answers in RFC 6749 §5.2 form.
  if (body?.error === 'invalid_client' || body?.error === 'unauthorized_client') return 'misconfigured'
  if (body?.error === 'invalid_grant') return 'grant'
  if (code === 'invalid_credentials') return 'credentials'
  if (code === 'email_not_confirmed') return 'unconfirmed'
  if (code && GRANT_CODES.has(code)) return 'grant'
  if (status === 404 || status === 401 || status === 403) return 'grant'
  return 'rejected'
}

function toSession(body: any): UpstreamSession {
  if (typeof body?.access_token !== 'string' || typeof body?.refresh_token !== 'string' || typeof body?.user?.id !== 'string') {
    throw new UpstreamError('unavailable')
  }
  const expiresAt = Number(body.expires_at) || Math.floor(Date.now() / 1000) + (Number(body.expires_in) || 3600)
  return {
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    expiresAt,
    userId: body.user.id,
    email: typeof body.user.email === 'string' && body.user.email ? body.user.email : undefined,
  }
}

export interface AuthCall {
  /** A JSON body (GoTrue's endpoints) or a form (the OAuth server's token endpoint). */
  body?: unknown
  form?: Record<string, string>
  bearer?: string
  /** HTTP Basic client authentication (RFC 6749 §2.3.1). */
  basic?: { id: string; secret: string }
}

/** One POST to Supabase Auth over plain fetch with a timeout; refusals become `UpstreamError`s. */
export function supabaseAuthCaller(config: Pick<Config, 'effectiveSupabaseUrl' | 'effectiveAnonKey' | 'upstreamTimeoutMs'>, extraHeaders: Record<string, string> = {}) {
  const authUrl = `${config.effectiveSupabaseUrl}/auth/v1`
  const basicCredentials = ({ id, secret }: { id: string; secret: string }) =>
    Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')
  return async function call(path: string, init: AuthCall): Promise<any> {
    let response: Response
    try {
      response = await fetch(`${authUrl}${path}`, {
        method: 'POST',
        headers: {
          ...extraHeaders,
          apikey: config.effectiveAnonKey,
          'content-type': init.form ? 'application/x-www-form-urlencoded' : 'application/json',
          accept: 'application/json',
          'x-supabase-api-version': '2024-01-01',
          ...(init.bearer ? { authorization: `Bearer ${init.bearer}` } : {}),
          ...(init.basic ? { authorization: `Basic ${basicCredentials(init.basic)}` } : {}),
        },
        body: init.form ? new URLSearchParams(init.form).toString() : JSON.stringify(init.body ?? {}),
        signal: AbortSignal.timeout(config.upstreamTimeoutMs),
        redirect: 'error',
      })
    } catch {
      throw new UpstreamError('unavailable')
    }
    const text = await response.text().catch(() => '')
    let body: any
    try {
      body = text ? JSON.parse(text) : {}
    } catch {
      body = {}
    }
    if (!response.ok) throw new UpstreamError(classify(response.status, body), response.status)
    return body
  }
}

/** Ends the one session of an access token; an already ended session is what logging out wants. */
export async function logoutAt(call: ReturnType<typeof supabaseAuthCaller>, accessToken: string) {
  try {
    await call('/logout?scope=local', { bearer: accessToken })
  } catch (error) {
    if (error instanceof UpstreamError && error.failure === 'grant') return
    throw error
  }
}

/** The calls the authorization server makes to Supabase Auth when users sign in on its own page. */
export function createUpstream(config: Pick<Config, 'effectiveSupabaseUrl' | 'effectiveAnonKey' | 'upstreamTimeoutMs'>, headers: Record<string, string> = {}): Upstream {
  const authUrl = `${config.effectiveSupabaseUrl}/auth/v1`
  const call = supabaseAuthCaller(config, headers)

  return {
    async signInWithPassword(email, password) {
      return toSession(await call('/token?grant_type=password', { body: { email, password } }))
    },
    async refresh(refreshToken) {
      return toSession(await call('/token?grant_type=refresh_token', { body: { refresh_token: refreshToken } }))
    },
    async exchangeCode(authCode, codeVerifier) {
      return toSession(await call('/token?grant_type=pkce', { body: { auth_code: authCode, code_verifier: codeVerifier } }))
    },
    logout: (accessToken) => logoutAt(call, accessToken),
    providerUrl(provider, redirectTo, codeChallenge) {
      const url = new URL(`${authUrl}/authorize`)
      url.search = new URLSearchParams({ provider, redirect_to: redirectTo, code_challenge: codeChallenge, code_challenge_method: 's256' }).toString()
      return url.toString()
    },
  }
}
