import { decodeJwt } from 'jose'
import { TtlLru } from './ttl-lru.ts'

/** The longest an access token of Supabase Auth can live (GoTrue's ceiling for jwt_exp), in seconds. */
export const LONGEST_ACCESS_TOKEN_SECONDS = 604_800

/**
 * Supabase sessions this server ended (a logout, a revocation, a reused refresh token), kept
 * until the last access token of each has expired. Every token of such a session is refused
 * on this instance, also the ones it had cached as valid and the ones it never saw: ending a
 * grant from its refresh token never shows the access tokens given out before.
 */
export class EndedSessions {
  readonly #ended: TtlLru<true>
  readonly #now: () => number

  constructor(maxEntries = 10_000, now: () => number = Date.now) {
    this.#ended = new TtlLru(maxEntries, now)
    this.#now = now
  }

  /** `until`: unix seconds after which no access token of the session is valid anyway. */
  end(sessionId: string, until: number): void {
    this.#ended.set(sessionId, true, until * 1000 - this.#now())
  }

  /** The session of an access token this server ended the session of, if it names one. */
  endOf(accessToken: string, until: number): void {
    let sessionId: unknown
    try {
      sessionId = decodeJwt(accessToken).session_id
    } catch {
      return
    }
    if (typeof sessionId === 'string' && sessionId) this.end(sessionId, until)
  }

  has(sessionId: string | undefined): boolean {
    // Runs on every authenticated request: nothing to look up while nothing has ended.
    return sessionId !== undefined && this.#ended.size > 0 && this.#ended.get(sessionId) === true
  }
}
