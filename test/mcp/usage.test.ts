import t from 'tap'
import { UsageCounter } from '../../src/mcp/usage.ts'

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
  usage.hit('a')
  t.equal(usage.peek('a').remaining, 0, 'remaining never goes below zero')
  now = 180_000
  t.equal(usage.peek('a').used, 0, 'a new window starts from zero')
  t.equal(usage.size, 0, 'and keeps nothing of the last one')
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
