import { AuthClient, isAuthError, isAuthRetryableFetchError, isAuthSessionMissingError, type AuthError as SupabaseAuthError, type Session } from '@supabase/supabase-js'
import { UpstreamUnavailableError } from '../auth/errors.ts'
import type { Config } from '../config.ts'
import { fetchUpstream } from './upstream-fetch.ts'

/** What this server needs from Supabase Auth. The only module that talks to supabase-js. */
export interface SupabaseGateway {
  /** Asks Supabase whose token this is; sees logouts, deleted users and bans before `exp`. */
  getUser(accessToken: string): Promise<GatewayResult<{ user: GatewayUser }>>
  signInWithPassword(email: string, password: string): Promise<GatewayResult<{ session: GatewaySession }>>
  refreshSession(refreshToken: string): Promise<GatewayResult<{ session: GatewaySession }>>
  /** Ends the token's session (`local`), every session of its user (`global`) or the others. */
  signOut(accessToken: string, scope: 'local' | 'global' | 'others'): Promise<GatewayResult<object>>
}

/**
 * A credential Supabase accepted, or the reason it refused one. An unreachable Supabase is
 * neither: those methods throw `UpstreamUnavailableError` instead.
 */
export type GatewayResult<T> = ({ ok: true } & T) | { ok: false; status: number; code: string; message: string }

export interface GatewayUser {
  id: string
  email: string | undefined
  role: string | undefined
}

export interface GatewaySession {
  access_token: string
  refresh_token: string
  token_type: string
  expires_in: number
  expires_at: number
  user: { id: string; email: string | undefined }
}

// supabase-js retries a refresh that failed with a 5xx or a network error for up to 30 s.
// This status is outside its retryable set, so the outage reaches us at once as an answer
// we recognise, and the caller gets a prompt 503 instead.
const UNAVAILABLE_STATUS = 599
const UNAVAILABLE_CODE = 'upstream_unavailable'

/**
 * One supabase-js auth client per call: sign-in and refresh keep the session on the client
 * instance, and calls for different users must never share one. Clients are cheap (no timers
 * with `autoRefreshToken: false`, memory storage with `persistSession: false`).
 */
function callClient(config: Config, extraHeaders: Record<string, string>): { auth: InstanceType<typeof AuthClient>; outage: () => UpstreamUnavailableError | undefined } {
  let outage: UpstreamUnavailableError | undefined
  const boundedFetch: typeof fetch = async (input, init) => {
    try {
      return await fetchUpstream(input, init, config.upstreamTimeoutMs)
    } catch (error) {
      if (!(error instanceof UpstreamUnavailableError)) throw error
      outage = error
      const body = { code: UNAVAILABLE_CODE, error_code: UNAVAILABLE_CODE, message: error.message }
      return new Response(JSON.stringify(body), { status: UNAVAILABLE_STATUS, headers: { 'content-type': 'application/json' } })
    }
  }
  const auth = new AuthClient({
    url: `${config.effectiveSupabaseUrl}/auth/v1`,
    headers: { ...extraHeaders, apikey: config.effectiveAnonKey, Authorization: `Bearer ${config.effectiveAnonKey}` },
    fetch: boundedFetch,
    persistSession: false,
    autoRefreshToken: false,
    detectSessionInUrl: false,
  })
  return { auth, outage: () => outage }
}

function refused(error: SupabaseAuthError | Error, outage: UpstreamUnavailableError | undefined): { ok: false; status: number; code: string; message: string } {
  if (outage) throw outage
  if (isAuthRetryableFetchError(error)) throw new UpstreamUnavailableError('Supabase cannot be reached', 5, { cause: error })
  if (!isAuthError(error)) throw error
  // supabase-js turns GoTrue's `session_not_found` (a logged-out token) into this error, without its code.
  if (isAuthSessionMissingError(error)) return { ok: false, status: 403, code: 'session_not_found', message: error.message }
  return { ok: false, status: error.status ?? 400, code: error.code ?? 'invalid_request', message: error.message }
}

function sessionOf(session: Session): GatewaySession {
  return {
    access_token: session.access_token,
    refresh_token: session.refresh_token,
    token_type: session.token_type,
    expires_in: session.expires_in,
    expires_at: session.expires_at ?? Math.floor(Date.now() / 1000) + session.expires_in,
    user: { id: session.user.id, email: session.user.email },
  }
}

/** `extraHeaders`: what this server's own calls to its embedded auth carry (see embedded-auth/internal-call.ts). */
export function createSupabaseGateway(config: Config, extraHeaders: Record<string, string> = {}): SupabaseGateway {
  return {
    async getUser(accessToken) {
      const { auth, outage } = callClient(config, extraHeaders)
      const { data, error } = await auth.getUser(accessToken)
      if (error || !data.user) return refused(error ?? new Error('Supabase returned no user'), outage())
      return { ok: true, user: { id: data.user.id, email: data.user.email, role: data.user.role } }
    },
    async signInWithPassword(email, password) {
      const { auth, outage } = callClient(config, extraHeaders)
      const { data, error } = await auth.signInWithPassword({ email, password })
      if (error || !data.session) return refused(error ?? new Error('Supabase returned no session'), outage())
      return { ok: true, session: sessionOf(data.session) }
    },
    async refreshSession(refreshToken) {
      const { auth, outage } = callClient(config, extraHeaders)
      const { data, error } = await auth.refreshSession({ refresh_token: refreshToken })
      if (error || !data.session) return refused(error ?? new Error('Supabase returned no session'), outage())
      return { ok: true, session: sessionOf(data.session) }
    },
    async signOut(accessToken, scope) {
      const { auth, outage } = callClient(config, extraHeaders)
      const { error } = await auth.admin.signOut(accessToken, scope)
      if (error) return refused(error, outage())
      return { ok: true }
    },
  }
}
