import { createHash, randomBytes } from 'node:crypto'
import t from 'tap'
import { loadConfig } from '../../src/config.ts'
import { backends } from '../helpers/backends.ts'
import { supabaseClient } from '../helpers/auth.ts'
import { startTestServer } from '../helpers/server.ts'

// Finding 3: the embedded `POST /auth/v1/token?grant_type=password` took unlimited guesses
// (40 wrong passwords got 40 × 400), beside rate-limited sign-in pages sharing its users.

const DEFAULT_MAX = loadConfig({}, {}).loginRateLimit.max
const ACCOUNT = { email: 'guessed@example.com', password: 'the real password' }
const V2024 = { 'content-type': 'application/json', 'x-supabase-api-version': '2024-01-01' }

const guess = (base: string, password: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/auth/v1/token?grant_type=password`, { method: 'POST', headers: { ...V2024, ...headers }, body: JSON.stringify({ email: ACCOUNT.email, password }) })

t.test('finding 3: the 41st wrong password at the password grant is refused with 429', async (t) => {
  const server = await startTestServer(backends()[0]!, { LOGIN_RATE_LIMIT_MAX: String(DEFAULT_MAX) })
  t.teardown(() => server.dispose())
  const base = server.config.baseUrl
  await supabaseClient(base, server.anonKey).auth.signUp(ACCOUNT)

  const statuses: number[] = []
  for (let i = 0; i < 40; i++) statuses.push((await guess(base, `guess ${i}`)).status)
  t.same(statuses.slice(0, DEFAULT_MAX), Array(DEFAULT_MAX).fill(400), `the first ${DEFAULT_MAX} guesses are checked`)
  t.same(statuses.slice(DEFAULT_MAX), Array(40 - DEFAULT_MAX).fill(429), 'the rest are refused')

  const refused = await guess(base, 'guess 41')
  t.equal(refused.status, 429, 'the 41st is refused')
  t.ok(Number(refused.headers.get('retry-after')) > 0, 'with Retry-After')
  t.equal(refused.headers.get('x-sb-error-code'), 'over_request_rate_limit')
  t.match(await refused.json(), { code: 'over_request_rate_limit', error_code: 'over_request_rate_limit', message: 'Request rate limit reached' }, "in Supabase's error shape")

  const { error } = await supabaseClient(base, server.anonKey).auth.signInWithPassword(ACCOUNT)
  t.equal(error?.status, 429, 'supabase-js sees 429, even with the right password')
  t.equal(error?.code, 'over_request_rate_limit', 'and the code')
})

t.test('finding 3: guesses at one account from many addresses are limited per account', async (t) => {
  const server = await startTestServer(backends()[0]!, { LOGIN_RATE_LIMIT_MAX: String(DEFAULT_MAX), TRUST_PROXY: '1' })
  t.teardown(() => server.dispose())
  await supabaseClient(server.config.baseUrl, server.anonKey).auth.signUp(ACCOUNT)
  const statuses: number[] = []
  for (let i = 0; i <= DEFAULT_MAX; i++) statuses.push((await guess(server.config.baseUrl, `guess ${i}`, { 'x-forwarded-for': `198.51.100.${i + 1}` })).status)
  t.same(statuses, [...Array(DEFAULT_MAX).fill(400), 429], 'each address is new, the account is not')
})

t.test('finding 3: every credential endpoint counts in the same limit', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'simple', LOGIN_RATE_LIMIT_MAX: '6', AUTH_OAUTH_SERVER_ALLOW_DYNAMIC_REGISTRATION: 'true' })
  t.teardown(() => server.dispose())
  const base = server.config.baseUrl
  await supabaseClient(base, server.anonKey).auth.signUp(ACCOUNT)

  const login = (password: string) =>
    fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ACCOUNT.email, password }) })
  t.equal((await login(ACCOUNT.password)).status, 200, "/auth/login's own call to the password grant is not counted twice")
  t.equal((await login('wrong')).status, 401)

  // The embedded OAuth server's consent page, where the user signs in to approve.
  const client = await (await fetch(`${base}/auth/v1/oauth/clients/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/callback'], token_endpoint_auth_method: 'none' }),
  })).json()
  const verifier = randomBytes(32).toString('base64url')
  const authorize = await fetch(`${base}/auth/v1/oauth/authorize?${new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: 'http://127.0.0.1:9/callback',
    response_type: 'code',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  })}`, { redirect: 'manual' })
  const consentUrl = new URL(authorize.headers.get('location')!)
  const formToken = /name="form_token" value="([^"]+)"/.exec(await (await fetch(consentUrl)).text())![1]!
  const consent = (password: string) =>
    fetch(`${base}/auth/v1/local-consent`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({ authorization_id: consentUrl.searchParams.get('authorization_id')!, form_token: formToken, email: ACCOUNT.email, password, action: 'approve' }),
    })
  t.equal((await consent('wrong')).status, 401)
  t.equal((await guess(base, 'wrong')).status, 400)
  t.equal((await consent('wrong')).status, 401)
  t.equal((await guess(base, 'wrong')).status, 400, 'six attempts over three endpoints')

  const refusedLogin = await login(ACCOUNT.password)
  t.equal(refusedLogin.status, 429, '/auth/login refuses the seventh')
  t.ok(Number(refusedLogin.headers.get('retry-after')) > 0)
  t.equal((await refusedLogin.json()).error, 'too_many_requests')
  const refusedConsent = await consent(ACCOUNT.password)
  t.equal(refusedConsent.status, 429, 'so does the consent page')
  t.ok(Number(refusedConsent.headers.get('retry-after')) > 0)
  t.match(await refusedConsent.text(), 'Too many sign-in attempts')
  t.equal((await guess(base, ACCOUNT.password)).status, 429, 'and the password grant')
})
