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

/** Counts each user's tool calls in fixed windows. In memory: per instance, reset on restart. */
export class UsageCounter {
  readonly #windows = new Map<string, { start: number; count: number }>()
  readonly #windowMs: number
  readonly #limit: number
  readonly #now: () => number

  constructor(options: { windowSeconds?: number; limit?: number; now?: () => number } = {}) {
    this.#windowMs = (options.windowSeconds ?? USAGE_WINDOW_SECONDS) * 1000
    this.#limit = options.limit ?? USAGE_LIMIT_PER_WINDOW
    this.#now = options.now ?? Date.now
  }

  /** Counts one call; the snapshot (a date string) is built only when `peek` asks for it. */
  hit(userId: string): void {
    this.#current(userId).count += 1
  }

  peek(userId: string): UsageSnapshot {
    return this.#snapshot(this.#current(userId))
  }

  #current(userId: string) {
    const now = this.#now()
    const start = now - (now % this.#windowMs)
    let window = this.#windows.get(userId)
    if (!window || window.start !== start) {
      if (this.#windows.size > 10_000) this.#sweep(start)
      window = { start, count: 0 }
      this.#windows.set(userId, window)
    }
    return window
  }

  #sweep(currentStart: number) {
    for (const [key, window] of this.#windows) if (window.start !== currentStart) this.#windows.delete(key)
  }

  #snapshot(window: { start: number; count: number }): UsageSnapshot {
    return {
      window_seconds: this.#windowMs / 1000,
      limit: this.#limit,
      used: window.count,
      remaining: Math.max(0, this.#limit - window.count),
      resets_at: new Date(window.start + this.#windowMs).toISOString(),
    }
  }
}
