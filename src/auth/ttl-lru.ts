/**
 * A bounded map whose entries also expire: at most `maxEntries` live at once (the least
 * recently used goes first), and an entry is gone once its own TTL has passed. Both token
 * caches use it, so memory stays bounded whatever callers send.
 */
export class TtlLru<V> {
  readonly maxEntries: number
  readonly #now: () => number
  // A Map iterates in insertion order; re-inserting on read keeps the oldest use first.
  readonly #entries = new Map<string, { value: V; expiresAt: number }>()

  constructor(maxEntries: number, now: () => number = Date.now) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer')
    this.maxEntries = maxEntries
    this.#now = now
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key)
      return undefined
    }
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    return entry.value
  }

  /** Stores `value` for `ttlMs`; a TTL of zero or less stores nothing (and drops an older entry). */
  set(key: string, value: V, ttlMs: number): void {
    this.#entries.delete(key)
    if (!(ttlMs > 0)) return
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlMs })
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string
      this.#entries.delete(oldest)
    }
  }

  delete(key: string): void {
    this.#entries.delete(key)
  }

  get size(): number {
    return this.#entries.size
  }
}
