import { UpstreamUnavailableError } from '../auth/errors.ts'
import type { Config } from '../config.ts'
import { fetchUpstream } from './upstream-fetch.ts'

/** A Supabase user as the admin API describes it, reduced to what deciding on a sign-in needs. */
export interface AdminUser {
  id: string
  email: string | undefined
  emailConfirmed: boolean
  banned: boolean
  appMetadata: Record<string, unknown>
}

/**
 * Supabase Auth's admin API (`supabase.auth.admin.*`) with the service-role key: the embedded
 * auth's or a real project's. An outage throws `UpstreamUnavailableError`; any other refusal
 * throws `AdminApiError`.
 */
export interface SupabaseAdmin {
  getUser(id: string): Promise<AdminUser | undefined>
  /** The user whose address is exactly this one (compared without case), if any. */
  findUserByEmail(email: string): Promise<AdminUser | undefined>
  /** A user with a confirmed email and no password: they sign in only through the provider. */
  createUser(email: string, appMetadata: Record<string, unknown>): Promise<AdminUser>
}

export class AdminApiError extends Error {
  readonly status: number
  readonly code: string | undefined
  constructor(status: number, code: string | undefined) {
    super(`Supabase Auth's admin API refused the request (HTTP ${status}${code ? `, ${code}` : ''})`)
    this.name = 'AdminApiError'
    this.status = status
    this.code = code
  }
}

const PER_PAGE = 100
// A filter is a substring match, so a common address could match many users; a lookup reads
// this many pages at most before giving up (and the operator hears why).
const MAX_PAGES = 50

function adminUser(body: any): AdminUser {
  if (typeof body?.id !== 'string') throw new UpstreamUnavailableError("Supabase Auth's admin API answered without a user")
  const bannedUntil = typeof body.banned_until === 'string' ? Date.parse(body.banned_until) : NaN
  return {
    id: body.id,
    email: typeof body.email === 'string' && body.email ? body.email : undefined,
    emailConfirmed: Boolean(body.email_confirmed_at ?? body.confirmed_at),
    banned: Number.isFinite(bannedUntil) && bannedUntil > Date.now(),
    appMetadata: body.app_metadata && typeof body.app_metadata === 'object' ? body.app_metadata : {},
  }
}

export function createSupabaseAdmin(config: Pick<Config, 'effectiveSupabaseUrl' | 'effectiveAnonKey' | 'upstreamTimeoutMs'>, serviceRoleKey: string): SupabaseAdmin {
  const adminUrl = `${config.effectiveSupabaseUrl}/auth/v1/admin/users`

  async function call(url: string, init: { method: string; body?: unknown }): Promise<{ status: number; body: any }> {
    const response = await fetchUpstream(
      url,
      {
        method: init.method,
        headers: {
          apikey: serviceRoleKey,
          authorization: `Bearer ${serviceRoleKey}`,
          accept: 'application/json',
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        redirect: 'error',
      },
      config.upstreamTimeoutMs,
    )
    const text = await response.text().catch(() => '')
    let body: any = {}
    try {
      body = text ? JSON.parse(text) : {}
    } catch {
      /* not JSON: only the status counts */
    }
    return { status: response.status, body }
  }

  return {
    async getUser(id) {
      const { status, body } = await call(`${adminUrl}/${encodeURIComponent(id)}`, { method: 'GET' })
      if (status === 404) return undefined
      if (status !== 200) throw new AdminApiError(status, body?.error_code ?? body?.code)
      return adminUser(body)
    },
    async findUserByEmail(email) {
      const wanted = email.toLowerCase()
      for (let page = 1; page <= MAX_PAGES; page++) {
        const query = new URLSearchParams({ filter: wanted, page: String(page), per_page: String(PER_PAGE) })
        const { status, body } = await call(`${adminUrl}?${query}`, { method: 'GET' })
        if (status !== 200) throw new AdminApiError(status, body?.error_code ?? body?.code)
        const users: any[] = Array.isArray(body?.users) ? body.users : []
        const match = users.find((user) => typeof user?.email === 'string' && user.email.toLowerCase() === wanted)
        if (match) return adminUser(match)
        if (users.length < PER_PAGE) return undefined
      }
      throw new AdminApiError(200, 'too_many_matches')
    },
    async createUser(email, appMetadata) {
      const { status, body } = await call(adminUrl, { method: 'POST', body: { email, email_confirm: true, app_metadata: appMetadata } })
      if (status !== 200 && status !== 201) throw new AdminApiError(status, body?.error_code ?? body?.code)
      return adminUser(body)
    },
  }
}
