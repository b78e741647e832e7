import t from 'tap'
import { EMAIL_MAX_LENGTH, isEmailAddress } from '../../src/embedded-auth/email.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'

// Finding 2: the email check of the local provider page ran a backtracking pattern over the
// raw input before any length check; 80 KB of `a@....@` held the event loop for seconds.

const ATTACK = `a@${'.'.repeat(80 * 1024)}@`

t.test('finding 2: the email check refuses what is too long before matching anything', async (t) => {
  t.equal(isEmailAddress(ATTACK), false)
  t.equal(isEmailAddress(`${'a'.repeat(EMAIL_MAX_LENGTH - 11)}@example.com`), false, 'one character over the limit')
  t.equal(isEmailAddress(`${'a'.repeat(EMAIL_MAX_LENGTH - 12)}@example.com`), true, 'at the limit')
  for (const good of ['ada@example.com', 'a.b+c@sub.example.co.uk', 'x@y.z', 'ada@localhost']) t.ok(isEmailAddress(good), good)
  for (const bad of ['ada', 'xx:;x@x.x', 'ada@-example.com', 'ada@@example.com', 'a da@example.com', 'ada@example..com', 'ada@.example.com', 'ada@example.com.', '@example.com']) {
    t.notOk(isEmailAddress(bad), bad)
  }
})

t.test('finding 2: the 80 KB body gets its answer from the length check', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_EXTERNAL_PROVIDERS: 'github' })
  t.teardown(() => server.dispose())
  const base = `${server.config.baseUrl}/auth/v1`
  const state = new URL((await fetch(`${base}/authorize?provider=github`, { redirect: 'manual' })).headers.get('location')!).searchParams.get('state')!
  const page = await fetch(`${base}/local-provider/authorize`, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({ provider: 'github', state, redirect_uri: `${base}/callback`, email: ATTACK, action: 'approve' }),
  })
  t.equal(page.status, 400)
  const html = await page.text()
  t.match(html, `Enter an email address of at most ${EMAIL_MAX_LENGTH} characters.`, 'refused for its length')
  t.ok(html.length < 10_000, 'and the page does not echo the 80 KB back')

  const signup = await fetch(`${base}/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ATTACK, password: 'long enough' }) })
  t.equal(signup.status, 400)
  t.equal((await signup.json()).msg, 'An email address is too long', 'sign-up refuses it for its length too')
  t.equal((await fetch(`${server.config.baseUrl}/health`)).status, 200, 'and the server goes on answering')
})
