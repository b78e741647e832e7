import t from 'tap'
import { TtlLru } from '../../src/auth/ttl-lru.ts'

function clocked(maxEntries: number) {
  const clock = { now: 1_000 }
  return { clock, cache: new TtlLru<string>(maxEntries, () => clock.now) }
}

t.test('an entry lives for its own TTL', async (t) => {
  const { clock, cache } = clocked(10)
  cache.set('a', 'alpha', 500)
  cache.set('b', 'beta', 2_000)
  clock.now += 499
  t.equal(cache.get('a'), 'alpha')
  clock.now += 1
  t.equal(cache.get('a'), undefined, 'gone at its expiry')
  t.equal(cache.get('b'), 'beta', 'the other keeps its own TTL')
  clock.now += 1_500
  t.equal(cache.get('b'), undefined)
  t.equal(cache.size, 0, 'expired entries are dropped when met')
})

t.test('a TTL of zero or less stores nothing and drops the older value', async (t) => {
  const { cache } = clocked(10)
  cache.set('a', 'alpha', 1_000)
  cache.set('a', 'newer', 0)
  t.equal(cache.get('a'), undefined)
  cache.set('b', 'beta', -5)
  t.equal(cache.get('b'), undefined)
  cache.set('c', 'gamma', Number.NaN)
  t.equal(cache.size, 0)
})

t.test('the least recently used entry goes first when full', async (t) => {
  const { cache } = clocked(3)
  cache.set('a', '1', 10_000)
  cache.set('b', '2', 10_000)
  cache.set('c', '3', 10_000)
  t.equal(cache.get('a'), '1', 'reading a makes b the oldest')
  cache.set('d', '4', 10_000)
  t.equal(cache.size, 3)
  t.equal(cache.get('b'), undefined, 'b was evicted')
  t.equal(cache.get('a'), '1')
  t.equal(cache.get('c'), '3')
  t.equal(cache.get('d'), '4')
  cache.set('c', '3 again', 10_000)
  cache.set('e', '5', 10_000)
  t.equal(cache.get('a'), undefined, 'overwriting counts as a use: a was the oldest now')
  t.equal(cache.get('c'), '3 again')
})

t.test('delete and bad sizes', async (t) => {
  const { cache } = clocked(2)
  cache.set('a', '1', 1_000)
  cache.delete('a')
  t.equal(cache.get('a'), undefined)
  t.throws(() => new TtlLru(0), RangeError)
  t.throws(() => new TtlLru(1.5), RangeError)
})
