import rateLimit from '@fastify/rate-limit'
import type { Redis } from 'ioredis'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../config.ts'
import { openRedis, throttledWarning } from '../redis-client.ts'
import { tokenHash } from './token-hash.ts'

export interface LoginRateLimiter {
  /**
   * Counts one password attempt from the request's client address and at `account` (the
   * email it names). Resolves to the seconds to wait when either is over its limit, else
   * to undefined. Every endpoint that checks a password counts here, under the same keys,
   * so spreading guesses over several endpoints gains nothing.
   */
  attempt(request: FastifyRequest, account: string): Promise<number | undefined>
}

declare module 'fastify' {
  interface FastifyInstance {
    loginRateLimiter: LoginRateLimiter
  }
}

/**
 * The password-attempt limit: LOGIN_RATE_LIMIT_MAX per LOGIN_RATE_LIMIT_WINDOW per client
 * address and, separately, per account (hashed: emails are not stored in Redis). With
 * `REDIS_URL` the counters live in Redis, so every instance shares them; otherwise in this
 * process. Registered once on the root instance and decorated there as `loginRateLimiter`.
 *
 * When Redis cannot be reached the limiter fails open: sign-ins go on unlimited and a
 * warning is logged (at most every 30 s), because an auth outage is worse than a short
 * window without throttling.
 */
export async function loginRateLimiter(app: FastifyInstance, config: Config): Promise<LoginRateLimiter> {
  const warn = throttledWarning(app.log)
  let redis: Redis | undefined
  if (config.redisUrl) {
    redis = await openRedis(app, config.redisUrl, warn, 'Redis for login rate limits is unreachable; sign-ins are not rate limited meanwhile')
  }
  await app.register(rateLimit, { global: false, redis, nameSpace: 'atoms-mcp-rate-limit:' })

  // The limiter takes its key from the request; the key of the call in progress is kept here.
  const keys = new WeakMap<FastifyRequest, string>()
  const counter = app.createRateLimit({
    max: config.loginRateLimit.max,
    timeWindow: config.loginRateLimit.windowMs,
    keyGenerator: (request) => keys.get(request)!,
  })

  return {
    async attempt(request, account) {
      for (const key of [`login:address:${request.ip}`, `login:email:${tokenHash(account.trim().toLowerCase())}`]) {
        keys.set(request, key)
        let verdict
        try {
          verdict = await counter(request)
        } catch (error: any) {
          warn('the login rate-limit store failed; letting the sign-in through', { reason: error?.message })
          return undefined
        }
        if (!verdict.isAllowed && verdict.isExceeded) return Math.max(1, verdict.ttlInSeconds)
      }
      return undefined
    },
  }
}
