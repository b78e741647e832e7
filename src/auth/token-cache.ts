import { TtlLru } from './ttl-lru.ts'

/** The signature segment of a JWT (the whole string for anything else). */
const signatureOf = (token: string) => token.slice(token.lastIndexOf('.') + 1)

/**
 * What is known about a token, looked up on every authenticated request. Entries are keyed by
 * the token's signature segment and count only for the very token stored with them, so the
 * lookup costs a short-string key and one comparison instead of hashing the whole token (a
 * kilobyte) per request. The token is kept for that comparison; accepted tokens are kept in
 * their `UserContext` anyway, for calls made on the user's behalf. Bounded like `TtlLru`.
 */
export class TokenCache<V> {
  readonly #entries: TtlLru<{ token: string; value: V }>

  constructor(maxEntries: number, now?: () => number) {
    this.#entries = new TtlLru(maxEntries, now)
  }

  get(token: string): V | undefined {
    const entry = this.#entries.get(signatureOf(token))
    return entry !== undefined && entry.token === token ? entry.value : undefined
  }

  set(token: string, value: V, ttlMs: number): void {
    this.#entries.set(signatureOf(token), { token, value }, ttlMs)
  }

  delete(token: string): void {
    const key = signatureOf(token)
    if (this.#entries.get(key)?.token === token) this.#entries.delete(key)
  }

  get size(): number {
    return this.#entries.size
  }
}
