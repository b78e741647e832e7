/** How many calls a user may make per window; reported by get_api_usage. */
export const USAGE_WINDOW_SECONDS = 60
export const USAGE_LIMIT_PER_WINDOW = 600

export interface UsageSnapshot {
  window_seconds: number
  limit: number
  used: number
  remaining: number
  resets_at: string
}

/** Users counted per window before the earliest counted ones are dropped (their count restarts). */
export const USAGE_MAX_USERS = 50_000

/**
 * Counts each user's tool calls in fixed windows. In memory: per instance, reset on restart.
 * Every count belongs to the current window, so a new window starts with an empty map (no
 * sweep over old entries), and the map never holds more than `maxUsers`: a flood of distinct
 * users (or of tokens naming made-up ones) costs neither time per call nor unbounded memory.
 */
export class UsageCounter {
  #counts = new Map<string, number>()
  #windowStart = Number.NaN
  readonly #windowMs: number
  readonly #limit: number
  readonly #maxUsers: number
  readonly #now: () => number

  constructor(options: { windowSeconds?: number; limit?: number; maxUsers?: number; now?: () => number } = {}) {
    this.#windowMs = (options.windowSeconds ?? USAGE_WINDOW_SECONDS) * 1000
    this.#limit = options.limit ?? USAGE_LIMIT_PER_WINDOW
    this.#maxUsers = options.maxUsers ?? USAGE_MAX_USERS
    this.#now = options.now ?? Date.now
  }

  /** Counts one call; the snapshot (a date string) is built only when `peek` asks for it. */
  hit(userId: string): void {
    this.#enterCurrentWindow()
    const count = this.#counts.get(userId)
    if (count === undefined && this.#counts.size >= this.#maxUsers) {
      // Maps iterate in insertion order: the first key is the user counted earliest.
      this.#counts.delete(this.#counts.keys().next().value!)
    }
    this.#counts.set(userId, (count ?? 0) + 1)
  }

  peek(userId: string): UsageSnapshot {
    this.#enterCurrentWindow()
    const used = this.#counts.get(userId) ?? 0
    return {
      window_seconds: this.#windowMs / 1000,
      limit: this.#limit,
      used,
      remaining: Math.max(0, this.#limit - used),
      resets_at: new Date(this.#windowStart + this.#windowMs).toISOString(),
    }
  }

  /** Users with a count in the current window. */
  get size(): number {
    return this.#counts.size
  }

  #enterCurrentWindow() {
    const now = this.#now()
    const start = now - (now % this.#windowMs)
    if (start !== this.#windowStart) {
      this.#windowStart = start
      this.#counts = new Map()
    }
  }
}
