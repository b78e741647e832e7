import { SignJWT } from 'jose'
import t from 'tap'
import { EndedSessions } from '../../src/auth/ended-sessions.ts'

t.test('a session ended stays ended until the time given, by id or through one of its tokens', async (t) => {
  let now = 1_000_000
  const ended = new EndedSessions(10, () => now)
  t.notOk(ended.has('s1'))
  ended.end('s1', now / 1000 + 60)
  t.ok(ended.has('s1'))
  t.notOk(ended.has(undefined), 'a token with no session is never refused for it')
  const token = await new SignJWT({ session_id: 's2' }).setProtectedHeader({ alg: 'HS256' }).sign(new Uint8Array(32))
  ended.endOf(token, now / 1000 + 30)
  t.ok(ended.has('s2'))
  ended.endOf('not a jwt', now / 1000 + 30)
  now += 31_000
  t.notOk(ended.has('s2'), 'gone once no token of it can be valid')
  t.ok(ended.has('s1'))
})
