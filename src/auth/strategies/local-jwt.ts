import { jwtVerify } from 'jose'
import { InvalidTokenError } from '../errors.ts'
import { tokenHash } from '../token-hash.ts'
import { TokenCache } from '../token-cache.ts'
import { TtlLru } from '../ttl-lru.ts'
import { verifiedTokenFromClaims, type VerifiedToken } from '../user-context.ts'
import type { KeySource } from './key-store.ts'
import { CLOCK_LEEWAY_SECONDS, REFUSAL, checkAlgorithm, checkClaims, decodeToken, joseRefusal, type ExpectedClaims } from './token-claims.ts'
import type { TokenVerifier } from './token-verifier.ts'

/** The token's algorithm is fine but no key for it is known: `auto` validation asks Supabase instead. */
export class NoKeyForTokenError extends InvalidTokenError {
  constructor() {
    super(REFUSAL.unknownKey)
    this.name = 'NoKeyForTokenError'
  }
}

export interface LocalJwtOptions extends ExpectedClaims {
  /** The `typ` header the tokens must carry (RFC 9068 `at+jwt` for this server's own). */
  typ?: string
  /** Claims the tokens must carry beyond those every access token has. */
  requiredClaims?: string[]
  maxCacheEntries?: number
  now?: () => number
}

/**
 * Verifies Supabase access tokens with no call to Supabase per request: signature against
 * the project's keys, then the claim rules. It cannot see a logout before `exp`, except a
 * logout made through this very instance (`forget`).
 */
export class LocalJwtVerifier implements TokenVerifier {
  readonly #keys: KeySource
  readonly #expected: ExpectedClaims
  readonly #rules: { typ?: string; requiredClaims?: string[] }
  readonly #now: () => number
  readonly #verified: TokenCache<VerifiedToken>
  readonly #ended: TtlLru<true>

  constructor(keys: KeySource, options: LocalJwtOptions) {
    this.#keys = keys
    this.#expected = { issuer: options.issuer, audience: options.audience }
    this.#rules = { ...(options.typ ? { typ: options.typ } : {}), ...(options.requiredClaims ? { requiredClaims: options.requiredClaims } : {}) }
    this.#now = options.now ?? Date.now
    this.#verified = new TokenCache(options.maxCacheEntries ?? 10_000, this.#now)
    this.#ended = new TtlLru(options.maxCacheEntries ?? 10_000, this.#now)
  }

  async verify(token: string): Promise<VerifiedToken> {
    // A token this instance ended is never in the cache: `forget` drops it and it is not
    // cached again (see below), so a hit needs no look at `#ended`.
    const cached = this.#verified.get(token)
    if (cached) return cached
    const hash = tokenHash(token)
    if (this.#ended.get(hash)) throw new InvalidTokenError(REFUSAL.ended)

    const { header } = decodeToken(token)
    checkAlgorithm(header)
    const key = await this.#keys.keyFor(header)
    if (!key) throw new NoKeyForTokenError()
    let claims
    try {
      // The key's own algorithm is the only one allowed: no HS/ES or HS/RS confusion.
      ;({ payload: claims } = await jwtVerify(token, key.key, { algorithms: [key.alg], clockTolerance: CLOCK_LEEWAY_SECONDS, ...this.#rules }))
    } catch (error) {
      throw joseRefusal(error)
    }
    checkClaims(claims, this.#expected, this.#now() / 1000)
    const verified = verifiedTokenFromClaims(claims, token)
    // A logout through this instance may have landed while the signature was checked.
    if (this.#ended.get(hash)) throw new InvalidTokenError(REFUSAL.ended)
    this.#verified.set(token, verified, verified.expiresAt * 1000 - this.#now())
    return verified
  }

  forget(token: string, expiresAt: number): void {
    this.#verified.delete(token)
    this.#ended.set(tokenHash(token), true, (expiresAt + CLOCK_LEEWAY_SECONDS) * 1000 - this.#now())
  }
}
