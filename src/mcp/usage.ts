import type { Redis } from 'ioredis'
import type { Warn } from '../redis-client.ts'

/** The window tool calls are counted in; reported by get_api_usage. */
export const USAGE_WINDOW_SECONDS = 60

export interface UsageSnapshot {
  window_seconds: number
  /** Calls allowed per window; null when no limit is configured (the count is then informative). */
  limit: number | null
  used: number
  remaining: number | null
  resets_at: string
}

/** A call past the user's limit for the current window. */
export class UsageLimitError extends Error {
  readonly retryAfterSeconds: number
  constructor(limit: number, windowSeconds: number, retryAfterSeconds: number) {
    super(`the limit of ${limit} tool calls per ${windowSeconds} s is reached; retry in ${retryAfterSeconds} s`)
    this.name = 'UsageLimitError'
    this.retryAfterSeconds = retryAfterSeconds
  }
}

/** Counts each user's tool calls in fixed windows and refuses those past the limit, if one is set. */
export interface UsageTracker {
  /** Counts one call; throws `UsageLimitError` when it is past the limit. */
  hit(userId: string): void | Promise<void>
  peek(userId: string): UsageSnapshot | Promise<UsageSnapshot>
}

export interface UsageOptions {
  windowSeconds?: number
  /** Calls per window; null or undefined counts without limiting. */
  limit?: number | null
  now?: () => number
}

/** Users counted per window before the earliest counted ones are dropped (their count restarts). */
export const USAGE_MAX_USERS = 50_000

/** The window arithmetic both trackers share. */
class UsageWindow {
  readonly ms: number
  readonly limit: number | null
  readonly now: () => number

  constructor(options: UsageOptions) {
    this.ms = (options.windowSeconds ?? USAGE_WINDOW_SECONDS) * 1000
    this.limit = options.limit ?? null
    this.now = options.now ?? Date.now
  }

  start(now = this.now()): number {
    return now - (now % this.ms)
  }

  check(used: number, start: number): void {
    if (this.limit === null || used <= this.limit) return
    throw new UsageLimitError(this.limit, this.ms / 1000, Math.max(1, Math.ceil((start + this.ms - this.now()) / 1000)))
  }

  snapshot(used: number, start: number): UsageSnapshot {
    return {
      window_seconds: this.ms / 1000,
      limit: this.limit,
      used,
      remaining: this.limit === null ? null : Math.max(0, this.limit - used),
      resets_at: new Date(start + this.ms).toISOString(),
    }
  }
}

/**
 * Counts in this process: per instance, reset on restart. Every count belongs to the current
 * window, so a new window starts with an empty map (no sweep over old entries), and the map
 * never holds more than `maxUsers`: a flood of distinct users (or of tokens naming made-up
 * ones) costs neither time per call nor unbounded memory.
 */
export class UsageCounter implements UsageTracker {
  #counts = new Map<string, number>()
  #windowStart = Number.NaN
  readonly #window: UsageWindow
  readonly #maxUsers: number

  constructor(options: UsageOptions & { maxUsers?: number } = {}) {
    this.#window = new UsageWindow(options)
    this.#maxUsers = options.maxUsers ?? USAGE_MAX_USERS
  }

  hit(userId: string): void {
    this.#enterCurrentWindow()
    const count = this.#counts.get(userId)
    if (count === undefined && this.#counts.size >= this.#maxUsers) {
      // Maps iterate in insertion order: the first key is the user counted earliest.
      this.#counts.delete(this.#counts.keys().next().value!)
    }
    this.#counts.set(userId, (count ?? 0) + 1)
    this.#window.check((count ?? 0) + 1, this.#windowStart)
  }

  peek(userId: string): UsageSnapshot {
    this.#enterCurrentWindow()
    return this.#window.snapshot(this.#counts.get(userId) ?? 0, this.#windowStart)
  }

  /** Users with a count in the current window. */
  get size(): number {
    return this.#counts.size
  }

  #enterCurrentWindow() {
    const start = this.#window.start()
    if (start !== this.#windowStart) {
      this.#windowStart = start
      this.#counts = new Map()
    }
  }
}

/**
 * Counts in Redis, so every instance sharing it enforces one limit per user. A key per user
 * and window expires with the window. When Redis fails, this process counts on its own
 * meanwhile (a warning is logged), as a Redis outage must not stop the tools.
 */
export class RedisUsageCounter implements UsageTracker {
  readonly #redis: Redis
  readonly #window: UsageWindow
  readonly #local: UsageCounter
  readonly #warn: Warn

  constructor(redis: Redis, warn: Warn, options: UsageOptions = {}) {
    this.#redis = redis
    this.#warn = warn
    this.#window = new UsageWindow(options)
    this.#local = new UsageCounter(options)
  }

  async hit(userId: string): Promise<void> {
    const start = this.#window.start()
    const key = `atoms-mcp-usage:${start}:${userId}`
    let used: number
    try {
      const results = await this.#redis.multi().incr(key).pexpire(key, this.#window.ms).exec()
      used = Number(results?.[0]?.[1])
      if (!Number.isSafeInteger(used)) throw new Error('Redis answered no count')
    } catch (error: any) {
      this.#warn('Redis for tool-call counts failed; this instance counts on its own meanwhile', { reason: error?.message })
      return this.#local.hit(userId)
    }
    this.#window.check(used, start)
  }

  async peek(userId: string): Promise<UsageSnapshot> {
    const start = this.#window.start()
    try {
      const used = Number((await this.#redis.get(`atoms-mcp-usage:${start}:${userId}`)) ?? 0)
      return this.#window.snapshot(used, start)
    } catch {
      return this.#local.peek(userId)
    }
  }
}
