import t from 'tap'
import { startRedis, type RedisService } from '../../scripts/lib/services.ts'
import { backends } from '../helpers/backends.ts'
import { logCollector } from '../helpers/auth.ts'
import { startTestServer } from '../helpers/server.ts'

const redisAvailable = await startRedis()
const skip = 'skipped' in redisAvailable ? redisAvailable.skipped : false

t.test('Redis gone: login rate limits fail open with a warning, and come back with Redis', { skip }, async (t) => {
  let redis = redisAvailable as RedisService
  t.teardown(() => redis.stop())
  const log = logCollector()
  const server = await startTestServer(
    backends()[0]!,
    { AUTH_MODE: 'simple', REDIS_URL: redis.url, LOGIN_RATE_LIMIT_MAX: '2', LOG_LEVEL: 'warn' },
    { logStream: log.stream },
  )
  t.teardown(() => server.dispose())
  const attempt = async () => {
    const response = await fetch(`${server.config.baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'eve@example.com', password: 'wrong guess' }),
    })
    await response.text()
    return response.status
  }

  t.same([await attempt(), await attempt(), await attempt()], [401, 401, 429], 'with Redis up, the third attempt in the window is refused')

  await redis.stop()
  const during = [await attempt(), await attempt(), await attempt(), await attempt()]
  t.same(during, [401, 401, 401, 401], 'with Redis gone, sign-ins go on unlimited (fail open), never 500')
  t.match(log.text(), /sign-ins are not rate limited|letting the sign-in through/, 'a warning says so')

  const restarted = await startRedis(redis.port)
  if ('skipped' in restarted) throw new Error(restarted.skipped)
  redis = restarted
  // The client reconnects by itself; the counters start afresh, as Redis kept nothing.
  const deadline = Date.now() + 30_000
  const after: number[] = []
  while (!after.includes(429) && Date.now() < deadline) {
    after.push(await attempt())
    await new Promise((r) => setTimeout(r, 100))
  }
  t.ok(after.includes(429), `rate limiting resumes without a restart (${after.length} attempts)`)
  t.ok(after.every((status) => status === 401 || status === 429), 'and nothing else was answered meanwhile')
})
