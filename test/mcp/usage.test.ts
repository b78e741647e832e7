import t from 'tap'
import { Redis } from 'ioredis'
import { randomUUID } from 'node:crypto'
import { RedisUsageCounter, UsageCounter, UsageLimitError } from '../../src/mcp/usage.ts'
import { freePort } from '../../scripts/lib/ports.ts'
import { ownRedisDb } from '../helpers/redis.ts'

t.test('counts a user’s calls within the window and starts again in the next', async (t) => {
  let now = 120_000
  const usage = new UsageCounter({ windowSeconds: 60, limit: 3, now: () => now })
  usage.hit('a')
  usage.hit('a')
  usage.hit('b')
  t.match(usage.peek('a'), { window_seconds: 60, limit: 3, used: 2, remaining: 1, resets_at: new Date(180_000).toISOString() })
  t.equal(usage.peek('b').used, 1)
  t.equal(usage.peek('nobody').used, 0, 'an unknown user has used nothing')
  usage.hit('a')
  now = 150_000
  t.throws(() => usage.hit('a'), new UsageLimitError(3, 60, 30), 'the call past the limit is refused, with the seconds to the next window')
  t.equal(usage.peek('a').remaining, 0, 'remaining never goes below zero')
  t.doesNotThrow(() => usage.hit('b'), 'other users are counted apart')
  now = 180_000
  t.equal(usage.peek('a').used, 0, 'a new window starts from zero')
  t.equal(usage.size, 0, 'and keeps nothing of the last one')
  t.doesNotThrow(() => usage.hit('a'))
})

t.test('without a limit, calls are counted and never refused', async (t) => {
  const usage = new UsageCounter({ now: () => 0 })
  for (let i = 0; i < 10_000; i++) usage.hit('a')
  t.match(usage.peek('a'), { window_seconds: 60, limit: null, used: 10_000, remaining: null })
})

t.test('holds at most maxUsers users, dropping the earliest counted', async (t) => {
  const usage = new UsageCounter({ maxUsers: 1_000, now: () => 0 })
  for (let i = 0; i < 100_000; i++) usage.hit(`user-${i}`)
  t.equal(usage.size, 1_000, 'bounded by maxUsers')
  t.equal(usage.peek('user-99999').used, 1, 'the latest user is counted')
  t.equal(usage.peek('user-0').used, 0, 'the earliest was dropped')
  usage.hit('user-99999')
  t.equal(usage.peek('user-99999').used, 2, 'a known user is counted on without evicting anyone')
  t.equal(usage.size, 1_000)
})

const redisUrl = ownRedisDb(process.env.TEST_REDIS_URL, 4)
const quiet = () => {}

t.test('finding 8: instances sharing Redis enforce one limit per user', { skip: redisUrl ? false : process.env.TEST_REDIS_SKIP_REASON ?? 'no TEST_REDIS_URL' }, async (t) => {
  const clients = [new Redis(redisUrl!), new Redis(redisUrl!)]
  t.teardown(() => clients.forEach((client) => client.disconnect()))
  // The same instant on both, in the middle of a window, so no window ends during the test.
  const now = () => 1_000_000_050_000
  const [one, two] = clients.map((client) => new RedisUsageCounter(client, quiet, { limit: 3, now }))
  const user = randomUUID()
  await one!.hit(user)
  await two!.hit(user)
  await one!.hit(user)
  await t.rejects(two!.hit(user), new UsageLimitError(3, 60, 30), 'the fourth call, on either instance, is past the shared limit')
  t.match(await one!.peek(user), { limit: 3, used: 4, remaining: 0 })
  await t.resolves(one!.hit(randomUUID()), 'another user has a count of their own')
})

t.test('finding 8: with Redis down, each instance counts and limits on its own', async (t) => {
  const warnings: string[] = []
  const client = new Redis(`redis://127.0.0.1:${await freePort()}`, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true })
  client.on('error', quiet)
  t.teardown(() => client.disconnect())
  const usage = new RedisUsageCounter(client, (message) => warnings.push(message), { limit: 2, now: () => 30_000 })
  await usage.hit('a')
  await usage.hit('a')
  await t.rejects(usage.hit('a'), UsageLimitError)
  t.match(await usage.peek('a'), { used: 3, limit: 2 })
  t.match(warnings[0], /counts on its own/, 'the outage is logged')
})
