import t from 'tap'
import { TokenCache } from '../../src/auth/token-cache.ts'

t.test('an entry counts only for the very token it was stored with', async (t) => {
  const cache = new TokenCache<string>(10)
  cache.set('header.payload.signature', 'alice', 60_000)
  t.equal(cache.get('header.payload.signature'), 'alice')
  t.equal(cache.get('header.forged-payload.signature'), undefined, 'another payload under the same signature is a miss')
  t.equal(cache.get('signature'), undefined, 'the signature alone is a miss')
  cache.delete('header.forged-payload.signature')
  t.equal(cache.get('header.payload.signature'), 'alice', 'deleting another token leaves the entry')
  cache.delete('header.payload.signature')
  t.equal(cache.get('header.payload.signature'), undefined, 'deleting the token removes it')
})

t.test('bounded and expiring, as TtlLru', async (t) => {
  let now = 0
  const cache = new TokenCache<number>(3, () => now)
  for (let i = 0; i < 10; i++) cache.set(`h.p.sig${i}`, i, 1000)
  t.equal(cache.size, 3, 'at most maxEntries')
  t.equal(cache.get('h.p.sig9'), 9)
  now = 1000
  t.equal(cache.get('h.p.sig9'), undefined, 'gone once its TTL has passed')
})
