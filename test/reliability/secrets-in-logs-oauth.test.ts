import t from 'tap'
import { callTool } from '../../scripts/lib/mcp-call.ts'
import { backends } from '../helpers/backends.ts'
import { logCollector } from '../helpers/auth.ts'
import { everyRow, SecretLedger } from '../helpers/secrets.ts'
import { startTestServer } from '../helpers/server.ts'
import { Browser, formOf } from '../../scripts/lib/browser.ts'
import { REDIRECT_URI, signUp } from '../oauth/helpers.ts'
import { authorizeUrl, pkce, register, token } from '../oauth/manual-client.ts'

const PASSWORD = 'Tr0ub4dor&3-oauth-password'
const INTROSPECTION_SECRET = 'the-resource-servers-introspection-secret-0123'
const SCHEMAS = ['atoms_oauth', 'embedded_auth']

// The authorization server's whole flow at LOG_LEVEL=trace with a confidential client:
// registration, authorize, sign-in, consent, code exchange (and its replay), refresh,
// introspection and revocation. Everything logged and every table of both schemas is
// searched for every credential that passed, also at the two moments a Supabase session
// waits in the store: after the sign-in, and while a code is issued but not redeemed.
for (const backend of backends()) {
  t.test(`no credential of an oauth run reaches the logs or sits in the database in the clear on ${backend.name}`, async (t) => {
    const log = logCollector()
    const server = await startTestServer(backend, { AUTH_MODE: 'oauth', LOG_LEVEL: 'trace', OAUTH_INTROSPECTION_SECRET: INTROSPECTION_SECRET }, { logStream: log.stream })
    t.teardown(() => server.dispose())
    const base = server.config.baseUrl
    const ledger = new SecretLedger()
    const keep = ledger.keep.bind(ledger)
    const storedInTheClear = () => ledger.storedInTheClear(server.db, SCHEMAS)

    keep('password', PASSWORD)
    keep('introspection secret', INTROSPECTION_SECRET)
    await signUp(server, 'oauth-secret@example.com', PASSWORD)
    const client = (await register(server, { token_endpoint_auth_method: 'client_secret_basic' })).body
    keep('client secret', client.client_secret)
    const basic = { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}` }

    const { verifier, challenge } = pkce()
    keep('PKCE verifier', verifier)
    const browser = new Browser()
    const page = await browser.get(authorizeUrl(server, {
      response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', state: 'secret-run',
    }))
    t.equal(page.status, 200)
    const [cookieName, cookieValue] = [...browser.cookies][0]!
    keep('browser cookie', cookieValue)
    keep('browser cookie nonce', cookieValue.split('.')[0])
    const signIn = formOf(await page.text(), 'name="email"')
    keep('pending authorization handle', signIn.fields.handle)
    keep('CSRF token', signIn.fields.csrf)

    const consentPage = await browser.post(`${base}${signIn.action}`, { ...signIn.fields, email: 'oauth-secret@example.com', password: PASSWORD })
    t.equal(consentPage.status, 200, `signed in (cookie ${cookieName})`)
    // The Supabase session in the store is known to the test only once the tokens come out.
    const waitingForConsent = await everyRow(server.db, SCHEMAS)
    t.same(await storedInTheClear(), [], 'none seen so far is stored in the clear while the signed-in request waits for consent')

    const consent = formOf(await consentPage.text(), 'name="decision"')
    const approved = await browser.post(`${base}${consent.action}`, { ...consent.fields, decision: 'approve' })
    t.equal(approved.status, 303)
    const code = new URL(approved.headers.get('location')!).searchParams.get('code')
    keep('authorization code', code)
    const waitingForExchange = await everyRow(server.db, SCHEMAS)
    t.same(await storedInTheClear(), [], 'none seen so far is stored in the clear while the code waits for its exchange')

    const exchange = { grant_type: 'authorization_code', code: code!, code_verifier: verifier, redirect_uri: REDIRECT_URI }
    const issued = await token(server, exchange, basic)
    t.equal(issued.status, 200)
    keep('access token', issued.body.access_token)
    keep('refresh token', issued.body.refresh_token)
    const replayed = await token(server, exchange, basic)
    t.same(replayed.body, issued.body, 'the code replayed within its window gets the same tokens')
    t.same(ledger.foundIn(waitingForConsent), [], 'the session was not in the clear while the request waited for consent')
    t.same(ledger.foundIn(waitingForExchange), [], 'nor while the code waited for its exchange')
    t.same(await storedInTheClear(), [], 'none is stored in the clear while the answer is kept for a replay')

    t.equal((await callTool(base, issued.body.access_token, 'whoami')).status, 200)
    const refreshed = await token(server, { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token }, basic)
    t.equal(refreshed.status, 200)
    keep('refreshed access token', refreshed.body.access_token)
    keep('refreshed refresh token', refreshed.body.refresh_token)
    t.same(await storedInTheClear(), [], 'none is stored in the clear while the rotation is kept for a replay')

    const form = (body: Record<string, string>) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic }, body: new URLSearchParams(body) })
    const introspection = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${INTROSPECTION_SECRET}` } }
    const introspected: any = await (await fetch(`${base}/introspect`, { ...introspection, body: new URLSearchParams({ token: refreshed.body.access_token }) })).json()
    t.equal(introspected.active, true)
    t.equal((await fetch(`${base}/revoke`, form({ token: refreshed.body.refresh_token }))).status, 200)
    t.equal((await token(server, { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token }, basic)).body.error, 'invalid_grant', 'revoked')

    const logged = log.text()
    t.ok(logged.split('\n').length > 20, `trace logging wrote ${logged.split('\n').length} lines`)
    t.same(ledger.foundIn(logged), [], `none of ${ledger.secrets.size} credentials is in the logs`)
    t.same(await storedInTheClear(), [], 'none is stored in the clear once the run is over')
  })
}
