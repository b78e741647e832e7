import t from 'tap'
import { backends } from '../helpers/backends.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { Browser, formOf } from '../../scripts/lib/browser.ts'
import { REDIRECT_URI, signUp } from './helpers.ts'
import { pkce, register, token } from './manual-client.ts'

const USER = { email: 'cookies@example.com', password: 'a long enough secret' }

/** A browser that also keeps every Set-Cookie line it was sent. */
class RecordingBrowser extends Browser {
  readonly setCookies: string[] = []
  async get(url: string) {
    return this.record(await super.get(url))
  }
  async post(url: string, form: Record<string, string>) {
    return this.record(await super.post(url, form))
  }
  private record(response: Response) {
    this.setCookies.push(...response.headers.getSetCookie())
    return response
  }
}

/**
 * Sign-in and consent through the pages, talking to the server's loopback address (as a TLS
 * terminator in front does), then the code redeemed: every cookie set on the way.
 */
async function walkTheFlow(server: TestServer): Promise<string[]> {
  const loopback = { ...server, config: { ...server.config, baseUrl: server.url } }
  const client = (await register(loopback)).body
  const { verifier, challenge } = pkce()
  const browser = new RecordingBrowser()
  const page = await browser.get(`${server.url}/authorize?${new URLSearchParams({
    response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', state: 'c',
  })}`)
  if (page.status !== 200) throw new Error(`the sign-in page answered ${page.status}`)
  const signIn = formOf(await page.text(), 'name="email"')
  const consentPage = await browser.post(`${server.url}${signIn.action}`, { ...signIn.fields, ...USER })
  if (consentPage.status !== 200) throw new Error(`the sign-in answered ${consentPage.status}`)
  const consent = formOf(await consentPage.text(), 'name="decision"')
  const done = await browser.post(`${server.url}${consent.action}`, { ...consent.fields, decision: 'approve' })
  if (done.status !== 303) throw new Error(`the consent answered ${done.status}`)
  const code = new URL(done.headers.get('location')!).searchParams.get('code')!
  const issued = await token(loopback, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: client.client_id })
  if (issued.status !== 200) throw new Error(`the code exchange answered ${issued.status}`)
  if (browser.setCookies.length === 0) throw new Error('the flow set no cookie')
  return browser.setCookies
}

const attributes = (cookie: string) => cookie.split(';').slice(1).map((part) => part.trim().split('=')[0]!.toLowerCase())

t.test('behind https every cookie of the sign-in flow is Secure, HttpOnly, SameSite and __Host-', async (t) => {
  // Supabase is another server (plain http on loopback); this one is reached at an https
  // public URL through a TLS terminator, and itself listens on plain http.
  const supabase = await startTestServer(backends()[0]!, { AUTH_MODE: 'jwt' })
  t.teardown(() => supabase.dispose())
  await signUp(supabase, USER.email, USER.password)
  const server = await startTestServer(backends()[0]!, {
    AUTH_MODE: 'oauth', BASE_URL: 'https://atoms.example.test', SUPABASE_URL: supabase.config.baseUrl, SUPABASE_ANON_KEY: supabase.anonKey,
  })
  t.teardown(() => server.dispose())

  for (const cookie of await walkTheFlow(server)) {
    const name = cookie.split('=')[0]!
    const has = attributes(cookie)
    t.same(['httponly', 'samesite', 'secure'].filter((attribute) => !has.includes(attribute)), [], `${name}: HttpOnly, SameSite and Secure`)
    t.match(name, /^__Host-/, `${name}: pinned to this host`)
    t.match(cookie, /;\s*Path=\/(;|$)/, `${name}: Path=/ as __Host- requires`)
    t.notOk(has.includes('domain'), `${name}: no Domain as __Host- requires`)
  }
})

t.test('over plain http the cookies are HttpOnly and SameSite but not Secure, which browsers would drop', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth' })
  t.teardown(() => server.dispose())
  await signUp(server, USER.email, USER.password)
  for (const cookie of await walkTheFlow(server)) {
    const name = cookie.split('=')[0]!
    const has = attributes(cookie)
    t.same(['httponly', 'samesite'].filter((attribute) => !has.includes(attribute)), [], `${name}: HttpOnly and SameSite`)
    t.notOk(has.includes('secure'), `${name}: not Secure`)
    t.notMatch(name, /^__Host-/, `${name}: no __Host- prefix, which requires Secure`)
  }
})
