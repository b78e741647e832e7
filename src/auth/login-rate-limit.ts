import rateLimit from '@fastify/rate-limit'
import type { Redis } from 'ioredis'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.ts'
import { openRedis, throttledWarning } from '../redis-client.ts'
import { tokenHash } from './token-hash.ts'

const emailOf = (request: FastifyRequest) => String((request.body as { email?: unknown } | undefined)?.email ?? '').trim().toLowerCase()

/**
 * A preHandler limiting sign-in attempts per client address and, separately, per email
 * (hashed: addresses are not stored in Redis). With `REDIS_URL` the counters live in Redis,
 * so every instance shares them; otherwise in this process.
 *
 * When Redis cannot be reached the limiter fails open: sign-ins go on unlimited and a
 * warning is logged (at most every 30 s), because an auth outage is worse than a short
 * window without throttling.
 */
export async function loginRateLimiter(app: FastifyInstance, config: Config) {
  const warn = throttledWarning(app.log)
  let redis: Redis | undefined
  if (config.redisUrl) {
    redis = await openRedis(app, config.redisUrl, warn, 'Redis for login rate limits is unreachable; sign-ins are not rate limited meanwhile')
  }
  await app.register(rateLimit, { global: false, redis, nameSpace: 'atoms-mcp-rate-limit:' })

  const window = { max: config.loginRateLimit.max, timeWindow: config.loginRateLimit.windowMs }
  const limiters = [
    app.createRateLimit({ ...window, keyGenerator: (request) => `login:address:${request.ip}` }),
    app.createRateLimit({ ...window, keyGenerator: (request) => `login:email:${tokenHash(emailOf(request))}` }),
  ]

  return async function limitLogin(request: FastifyRequest, reply: FastifyReply) {
    for (const limiter of limiters) {
      let verdict
      try {
        verdict = await limiter(request)
      } catch (error: any) {
        warn('the login rate-limit store failed; letting the sign-in through', { reason: error?.message })
        return
      }
      if (!verdict.isAllowed && verdict.isExceeded) {
        return reply
          .code(429)
          .header('retry-after', String(verdict.ttlInSeconds))
          .send({ error: 'too_many_requests', message: `Too many login attempts; retry in ${verdict.ttlInSeconds} s` })
      }
    }
  }
}
