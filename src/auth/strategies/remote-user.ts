import { InvalidTokenError } from '../errors.ts'
import { tokenHash } from '../token-hash.ts'
import { TokenCache } from '../token-cache.ts'
import { verifiedTokenFromClaims, type VerifiedToken } from '../user-context.ts'
import type { SupabaseGateway } from '../../supabase/gateway.ts'
import { REFUSAL, checkAlgorithm, checkClaims, decodeToken, type ExpectedClaims } from './token-claims.ts'
import type { TokenVerifier } from './token-verifier.ts'

/** How long a refusal is remembered: long enough to absorb a burst, short enough not to matter. */
export const REFUSAL_MEMORY_MS = 3_000

export interface RemoteUserOptions extends ExpectedClaims {
  /** The longest an acceptance is reused (`TOKEN_CACHE_TTL`); a token's own `exp` can cut it shorter. */
  cacheTtlSeconds: number
  maxCacheEntries?: number
  now?: () => number
}

type Answer = { ok: true; verified: VerifiedToken } | { ok: false; message: string }

/**
 * Checks each token with Supabase (`getUser`), so a logout, a deleted user or a ban is seen
 * within `cacheTtlSeconds`. Answers are cached under the token's hash; concurrent checks of
 * one token share one upstream call.
 */
export class RemoteUserVerifier implements TokenVerifier {
  readonly #gateway: SupabaseGateway
  readonly #options: RemoteUserOptions
  readonly #now: () => number
  readonly #answers: TokenCache<Answer>
  readonly #inFlight = new Map<string, Promise<Answer>>()

  constructor(gateway: SupabaseGateway, options: RemoteUserOptions) {
    this.#gateway = gateway
    this.#options = options
    this.#now = options.now ?? Date.now
    this.#answers = new TokenCache(options.maxCacheEntries ?? 10_000, this.#now)
  }

  async verify(token: string): Promise<VerifiedToken> {
    // A remembered answer is about this very token, whose claims were checked when it was
    // asked about, and it is forgotten by the token's expiry at the latest.
    let answer = this.#answers.get(token)
    if (!answer) {
      const hash = tokenHash(token)
      // Refuse what Supabase would refuse anyway (or does not check) without asking it.
      const { header, claims } = decodeToken(token)
      checkAlgorithm(header)
      checkClaims(claims, this.#options, this.#now() / 1000)
      let pending = this.#inFlight.get(hash)
      if (!pending) {
        pending = this.#ask(token, claims).finally(() => this.#inFlight.delete(hash))
        this.#inFlight.set(hash, pending)
      }
      answer = await pending
    }
    if (!answer.ok) throw new InvalidTokenError(answer.message)
    return answer.verified
  }

  forget(token: string): void {
    this.#answers.delete(token)
  }

  async #ask(token: string, claims: Record<string, unknown>): Promise<Answer> {
    // An outage throws here and is never cached: the next request asks again.
    const result = await this.#gateway.getUser(token)
    if (!result.ok) {
      const answer: Answer = { ok: false, message: refusalMessage(result.code) }
      this.#answers.set(token, answer, Math.min(REFUSAL_MEMORY_MS, this.#options.cacheTtlSeconds * 1000))
      return answer
    }
    const verified = verifiedTokenFromClaims({ ...claims, role: claims.role ?? result.user.role }, token)
    verified.userId = result.user.id
    verified.email = result.user.email ?? verified.email
    const ttlMs = Math.min(this.#options.cacheTtlSeconds * 1000, verified.expiresAt * 1000 - this.#now())
    this.#answers.set(token, { ok: true, verified }, ttlMs)
    return { ok: true, verified }
  }
}

const REFUSAL_BY_CODE: Record<string, string> = {
  session_not_found: REFUSAL.ended,
  user_not_found: REFUSAL.userGone,
  user_banned: REFUSAL.userBanned,
}

// The code comes from the upstream's answer: read own properties only.
const refusalMessage = (code: string) => (Object.hasOwn(REFUSAL_BY_CODE, code) ? REFUSAL_BY_CODE[code]! : REFUSAL.refusedUpstream)
