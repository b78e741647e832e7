import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

// Finding 1: the embedded auth's stand-in for social providers signed a provider code for
// any typed email, and the callback linked it to the existing account with that email.

const VICTIM = { email: 'victim@example.com', password: 'the victim password' }

async function signUp(base: string, account: { email: string; password: string }) {
  const response = await fetch(`${base}/auth/v1/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(account) })
  return (await response.json()) as { user: { id: string } }
}

/** The three requests of the report: start a sign-in, approve the stand-in page as the victim, follow the callback. */
async function takeover(server: TestServer) {
  const B = server.config.baseUrl
  const authorize = await fetch(`${B}/auth/v1/authorize?provider=github`, { redirect: 'manual' })
  const location = authorize.headers.get('location')
  if (authorize.status !== 302 || !location) return { stoppedAt: 'authorize', status: authorize.status }
  const state = new URL(location).searchParams.get('state')!
  const approve = await fetch(`${B}/auth/v1/local-provider/authorize`, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({ provider: 'github', state, redirect_uri: `${B}/auth/v1/callback`, email: VICTIM.email, action: 'approve' }),
  })
  const callback = approve.headers.get('location')
  if (approve.status !== 302 || !callback) return { stoppedAt: 'local-provider', status: approve.status }
  const final = await fetch(callback, { redirect: 'manual' })
  return { stoppedAt: 'callback', status: final.status, landing: new URL(final.headers.get('location')!) }
}

t.test('finding 1: the default configuration has no passwordless sign-in', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth' })
  t.teardown(() => server.dispose())
  await signUp(server.config.baseUrl, VICTIM)
  const outcome = await takeover(server)
  t.equal(outcome.stoppedAt, 'authorize', 'no provider is enabled, so the sign-in does not start')
  t.equal(outcome.status, 400)
  const page = await fetch(`${server.config.baseUrl}/auth/v1/local-provider/authorize`, { method: 'POST', body: new URLSearchParams({ email: VICTIM.email }) })
  t.equal(page.status, 404, 'the stand-in page does not exist')
  const settings = await (await fetch(`${server.config.baseUrl}/auth/v1/settings`)).json()
  t.equal(settings.external.github, false, 'settings say GitHub is off')
})

t.test('finding 1: with the stand-in enabled, an existing account is never taken over by its email', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth', AUTH_EXTERNAL_PROVIDERS: 'github' })
  t.teardown(() => server.dispose())
  const victim = await signUp(server.config.baseUrl, VICTIM)
  const outcome = await takeover(server)
  t.equal(outcome.stoppedAt, 'callback', 'the flow runs to the callback')
  const fragment = new URLSearchParams(outcome.landing!.hash.slice(1))
  t.notOk(fragment.has('access_token'), 'no access token')
  t.notOk(fragment.has('refresh_token'), 'no refresh token')
  t.equal(outcome.landing!.searchParams.get('error_code'), 'email_exists', 'the sign-in is refused: the email has an account')
  const identities = await server.db.query<{ provider: string }>('select provider from embedded_auth.identities where user_id = $1', [victim.user.id])
  t.same(identities.rows.map((row) => row.provider), ['email'], "no GitHub identity was added to the victim's account")
  const sessions = await server.db.query('select 1 from embedded_auth.sessions where user_id = $1', [victim.user.id])
  t.equal(sessions.rows.length, 1, 'the only session is the one of the sign-up')

  // A proxy on this machine that the server was not told about (TRUST_PROXY unset): every
  // request it passes on comes from loopback, but carries the headers it adds.
  const page = `${server.config.baseUrl}/auth/v1/local-provider/authorize?${new URLSearchParams({ provider: 'github', state: 'x', redirect_uri: `${server.config.baseUrl}/auth/v1/callback` })}`
  t.equal((await fetch(page)).status, 200, 'a browser on this machine gets the page')
  for (const [name, value] of [['x-forwarded-for', '203.0.113.7'], ['forwarded', 'for=203.0.113.7'], ['x-real-ip', '203.0.113.7'], ['x-forwarded-host', 'atoms.example']]) {
    t.equal((await fetch(page, { headers: { [name!]: value! } })).status, 403, `a request forwarded by a proxy (${name}) does not`)
  }
})

t.test('finding 1: the stand-in answers only on loopback', async (t) => {
  t.throws(() => loadConfig({ HOST: '0.0.0.0', AUTH_EXTERNAL_PROVIDERS: 'github' }, {}), ConfigError, 'refused with a HOST others can reach')
  t.doesNotThrow(() => loadConfig({ HOST: '127.0.0.1', AUTH_EXTERNAL_PROVIDERS: 'github' }, {}), 'accepted on loopback')

  const server = await startTestServer(backends()[0]!, { AUTH_EXTERNAL_PROVIDERS: 'github', TRUST_PROXY: '1' })
  t.teardown(() => server.dispose())
  const page = `${server.config.baseUrl}/auth/v1/local-provider/authorize?${new URLSearchParams({ provider: 'github', state: 'x', redirect_uri: `${server.config.baseUrl}/auth/v1/callback` })}`
  t.equal((await fetch(page)).status, 200, 'a browser on this machine gets the page')
  t.equal((await fetch(page, { headers: { 'x-forwarded-for': '203.0.113.7' } })).status, 403, 'a client behind the proxy does not')
  const posted = await fetch(`${server.config.baseUrl}/auth/v1/local-provider/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'x-forwarded-for': '203.0.113.7' },
    body: new URLSearchParams({ provider: 'github', state: 'x', redirect_uri: `${server.config.baseUrl}/auth/v1/callback`, email: 'new@example.com', action: 'approve' }),
  })
  t.equal(posted.status, 403, 'nor can it post the form')
  const disabled = await fetch(`${server.config.baseUrl}/auth/v1/local-provider/authorize`, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({ provider: 'google', state: 'x', redirect_uri: `${server.config.baseUrl}/auth/v1/callback`, email: 'new@example.com', action: 'approve' }),
  })
  t.equal(disabled.status, 400, 'a provider that is not enabled gets no code')
})
