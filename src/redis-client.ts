import { Redis } from 'ioredis'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'

// A Redis outage must not stall requests: a command fails at once instead of queueing.
const REDIS_OPTIONS = { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: 1_000 }
const WARN_EVERY_MS = 30_000

export type Warn = (message: string, detail: Record<string, unknown>) => void

/** Logs at most one warning per interval, so an outage does not flood the log. */
export function throttledWarning(log: FastifyBaseLogger): Warn {
  let lastAt = Number.NEGATIVE_INFINITY
  return (message, detail) => {
    if (Date.now() - lastAt < WARN_EVERY_MS) return
    lastAt = Date.now()
    log.warn(detail, message)
  }
}

/**
 * A Redis client closed with the app. Commands fail while not connected, so the first
 * connection gets its chance before serving: a refused connection settles this at once, a
 * silent host after the connect timeout. `unreachable` is logged (throttled) on each error.
 */
export async function openRedis(app: FastifyInstance, url: string, warn: Warn, unreachable: string): Promise<Redis> {
  const redis = new Redis(url, REDIS_OPTIONS)
  redis.on('error', (error: Error) => warn(unreachable, { reason: error.message }))
  app.addHook('onClose', async () => redis.disconnect())
  await new Promise<void>((resolve) => {
    const settle = () => resolve()
    redis.once('ready', settle)
    redis.once('error', settle)
    setTimeout(settle, REDIS_OPTIONS.connectTimeout).unref()
  })
  return redis
}
