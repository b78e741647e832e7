import t from 'tap'
import { Browser, formOf } from '../../scripts/lib/browser.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { REDIRECT_URI, signUp, sessionUser } from './helpers.ts'
import { authorizeUrl, obtainCode, pkce, register, token } from './manual-client.ts'

const USER = { email: 'grace@example.com', password: 'a long enough secret' }

for (const backend of backends()) {
  t.test(`oauth refusals on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_MODE: 'oauth', OAUTH_REGISTRATIONS_PER_HOUR: '0', LOGIN_RATE_LIMIT_MAX: '30' })
    t.teardown(() => server.dispose())
    await signUp(server, USER.email, USER.password)
    const client = (await register(server)).body
    const other = (await register(server)).body
    const base = server.config.baseUrl
    const resource = `${base}/mcp`
    const valid = () => {
      const { verifier, challenge } = pkce()
      return { verifier, params: { response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', state: 's-1', resource } }
    }
    const redirectError = async (params: Record<string, string | undefined>) => {
      const response = await fetch(authorizeUrl(server, params), { redirect: 'manual' })
      t.equal(response.status, 302, 'the error goes back to the client')
      const location = new URL(response.headers.get('location')!)
      t.equal(`${location.origin}${location.pathname}`, REDIRECT_URI)
      t.equal(location.searchParams.get('state'), 's-1', 'state comes back untouched')
      t.equal(location.searchParams.get('iss'), base, 'with iss')
      t.notOk(location.searchParams.get('code'), 'and no code')
      return location.searchParams.get('error')
    }
    const errorPage = async (params: Record<string, string | undefined>) => {
      const response = await fetch(authorizeUrl(server, params), { redirect: 'manual' })
      t.equal(response.status, 400)
      t.notOk(response.headers.get('location'), 'never a redirect')
      t.match(response.headers.get('content-type'), /text\/html/)
      return response.text()
    }

    t.test('unknown client at /authorize: an HTML page', async (t) => {
      t.match(await errorPage({ ...valid().params, client_id: 'no-such-client' }), /Unknown application/)
    })
    t.test('unregistered redirect URI at /authorize: an HTML page', async (t) => {
      t.match(await errorPage({ ...valid().params, redirect_uri: 'https://evil.example/callback' }), /Invalid redirect/)
      t.match(await errorPage({ ...valid().params, redirect_uri: 'http://localhost:@evil.example/callback' }), /Invalid redirect/)
      t.match(await errorPage({ ...valid().params, redirect_uri: 'http://127.0.0.1:8976/other' }), /Invalid redirect/)
    })
    t.test('a loopback redirect URI may change its port (RFC 8252 §7.3)', async (t) => {
      const response = await fetch(authorizeUrl(server, { ...valid().params, redirect_uri: 'http://127.0.0.1:41234/callback' }))
      t.equal(response.status, 200)
    })
    t.test('errors go back to the client by redirect once it has redeemed a code', async (t) => {
      const { code, verifier } = await obtainCode(server, client.client_id, USER)
      const redeemed = await token(server, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: client.client_id })
      t.equal(redeemed.status, 200)
    })
    t.test('missing PKCE', async (t) => {
      t.equal(await redirectError({ ...valid().params, code_challenge: undefined, code_challenge_method: undefined }), 'invalid_request')
    })
    t.test('plain PKCE', async (t) => {
      const { params } = valid()
      t.equal(await redirectError({ ...params, code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }), 'invalid_request')
    })
    t.test('wrong resource', async (t) => {
      t.equal(await redirectError({ ...valid().params, resource: 'https://other.example/mcp' }), 'invalid_target')
    })
    t.test('unsupported scope and response type', async (t) => {
      t.equal(await redirectError({ ...valid().params, scope: 'admin' }), 'invalid_scope')
      t.equal(await redirectError({ ...valid().params, response_type: 'token' }), 'unsupported_response_type')
      const offline = await fetch(authorizeUrl(server, { ...valid().params, scope: 'openid offline_access' }))
      t.equal(offline.status, 200, 'offline_access is accepted: a refresh token is always issued')
    })

    t.test('a form post without the CSRF token', async (t) => {
      const browser = new Browser()
      const page = await browser.get(authorizeUrl(server, valid().params))
      const form = formOf(await page.text(), 'name="email"')
      const { csrf: _csrf, ...withoutCsrf } = form.fields
      const response = await browser.post(new URL(form.action, base).toString(), { ...withoutCsrf, ...USER })
      t.equal(response.status, 403)
      t.notOk(response.headers.get('location'))
      const forged = await browser.post(new URL(form.action, base).toString(), { ...form.fields, csrf: 'forged', ...USER })
      t.equal(forged.status, 403)
    })
    t.test('a sign-in form posted from another browser', async (t) => {
      const page = await new Browser().get(authorizeUrl(server, valid().params))
      const form = formOf(await page.text(), 'name="email"')
      const response = await new Browser().post(new URL(form.action, base).toString(), { ...form.fields, ...USER })
      t.equal(response.status, 403, 'the binding cookie is missing')
    })
    t.test('a wrong password shows the form again, without Supabase text', async (t) => {
      const browser = new Browser()
      const page = await browser.get(authorizeUrl(server, valid().params))
      const form = formOf(await page.text(), 'name="email"')
      const response = await browser.post(new URL(form.action, base).toString(), { ...form.fields, email: USER.email, password: 'wrong' })
      t.equal(response.status, 400)
      const text = await response.text()
      t.match(text, /Incorrect email or password/)
      t.notMatch(text, /Invalid login credentials/)
    })
    t.test('Deny sends access_denied', async (t) => {
      const browser = new Browser()
      const page = await browser.get(authorizeUrl(server, valid().params))
      const form = formOf(await page.text(), 'name="decision"')
      const response = await browser.post(new URL(form.action, base).toString(), { ...form.fields, decision: 'deny' })
      t.equal(response.status, 303)
      const location = new URL(response.headers.get('location')!)
      t.equal(location.searchParams.get('error'), 'access_denied')
      t.equal(location.searchParams.get('state'), 's-1')
    })

    t.test('token endpoint refusals', async (t) => {
      const { code, verifier } = await obtainCode(server, client.client_id, USER)
      const grant = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: client.client_id, resource }

      const unknown = await token(server, { ...grant, client_id: 'no-such-client' })
      t.equal(unknown.status, 401, 'unknown client: 401')
      t.equal(unknown.body.error, 'invalid_client')
      t.equal(unknown.headers.get('cache-control'), 'no-store')

      const mismatch = await token(server, { ...grant, redirect_uri: 'http://127.0.0.1:8976/elsewhere' })
      t.equal(mismatch.status, 400)
      t.equal(mismatch.body.error, 'invalid_grant', 'redirect URI mismatch')

      const wrongVerifier = await token(server, { ...grant, code_verifier: pkce().verifier })
      t.equal(wrongVerifier.body.error, 'invalid_grant', 'wrong verifier')

      const noVerifier = await token(server, { ...grant, code_verifier: '' })
      t.equal(noVerifier.body.error, 'invalid_request', 'missing verifier')

      const otherClient = await token(server, { ...grant, client_id: other.client_id })
      t.equal(otherClient.body.error, 'invalid_grant', 'a code presented by another client')

      const wrongResource = await token(server, { ...grant, resource: 'https://other.example/mcp' })
      t.equal(wrongResource.body.error, 'invalid_target')

      const badGrant = await token(server, { ...grant, grant_type: 'password' })
      t.equal(badGrant.body.error, 'unsupported_grant_type')

      for (const refused of [unknown, mismatch, wrongVerifier, noVerifier, otherClient, wrongResource, badGrant]) t.notOk(refused.body.access_token)

      const issued = await token(server, grant)
      t.equal(issued.status, 200, 'the code still works for its own client after the refusals')
      t.equal(issued.headers.get('cache-control'), 'no-store')
      const replay = await token(server, grant)
      t.equal(replay.status, 200, 'the same code and verifier again within 10 s gets the same answer')
      t.equal(replay.body.access_token, issued.body.access_token)
      t.equal((await sessionUser(server, issued.body.access_token)).status, 200)

      const reuse = await token(server, { ...grant, code_verifier: pkce().verifier })
      t.equal(reuse.body.error, 'invalid_grant', 'any other reuse is refused')
      t.notOk(reuse.body.access_token)
      t.equal((await sessionUser(server, issued.body.access_token)).status, 403, 'and ends the session the code gave out')
      const refresh = await token(server, { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token, client_id: client.client_id })
      t.equal(refresh.body.error, 'invalid_grant', 'its refresh token is dead too')
      const again = await token(server, grant)
      t.equal(again.body.error, 'invalid_grant', 'even the first verifier no longer gets an answer')
    })

    t.test('redirect_uri may be left out at /token only by a client with one registered URI', async (t) => {
      const single = await obtainCode(server, client.client_id, USER)
      const fine = await token(server, { grant_type: 'authorization_code', code: single.code, code_verifier: single.verifier, client_id: client.client_id })
      t.equal(fine.status, 200)
      const twoUris = (await register(server, { redirect_uris: [REDIRECT_URI, 'http://127.0.0.1:8976/second'] })).body
      const double = await obtainCode(server, twoUris.client_id, USER)
      const refused = await token(server, { grant_type: 'authorization_code', code: double.code, code_verifier: double.verifier, client_id: twoUris.client_id })
      t.equal(refused.body.error, 'invalid_grant')
      t.notOk(refused.body.access_token)
    })

    t.test('an expired code', async (t) => {
      const { code, verifier } = await obtainCode(server, client.client_id, USER)
      await server.db.query("update atoms_oauth.authorization_codes set expires_at = now() - interval '1 second' where used_at is null")
      const expired = await token(server, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: client.client_id })
      t.equal(expired.status, 400)
      t.equal(expired.body.error, 'invalid_grant')
      t.notOk(expired.body.access_token)
    })

    t.test('refresh token bound to its client', async (t) => {
      const { code, verifier } = await obtainCode(server, client.client_id, USER)
      const issued = await token(server, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: client.client_id })
      const stolen = await token(server, { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token, client_id: other.client_id })
      t.equal(stolen.body.error, 'invalid_grant', 'another client cannot use it')
      const first = await token(server, { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token, client_id: client.client_id })
      t.equal(first.status, 200)
      const twice = await token(server, { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token, client_id: client.client_id })
      t.equal(twice.status, 200, 'the same refresh token twice within 10 s')
      t.same([twice.body.access_token, twice.body.refresh_token], [first.body.access_token, first.body.refresh_token], 'gets the same new pair')
      const [a, b] = await Promise.all([
        token(server, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: client.client_id }),
        token(server, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: client.client_id }),
      ])
      t.equal(a.status, 200)
      t.equal(b.status, 200)
      t.equal(a.body.refresh_token, b.body.refresh_token, 'two concurrent refreshes get one rotation')
      t.equal((await sessionUser(server, a.body.access_token)).status, 200)

      await server.db.query("update atoms_oauth.refresh_tokens set rotated_at = now() - interval '1 minute' where rotated_at is not null")
      const late = await token(server, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: client.client_id })
      t.equal(late.body.error, 'invalid_grant', 'a rotated refresh token presented after the window is refused')
      t.notOk(late.body.access_token)
      t.equal((await sessionUser(server, a.body.access_token)).status, 403, 'and the session it belongs to ends: its copy leaked')
    })

    t.test('revoking a refresh token just rotated ends the session it lives on in', async (t) => {
      const { code, verifier } = await obtainCode(server, client.client_id, USER)
      const issued = await token(server, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: client.client_id })
      const rotated = await token(server, { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token, client_id: client.client_id })
      t.equal(rotated.status, 200)
      const revoked = await fetch(`${base}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: issued.body.refresh_token, client_id: client.client_id }),
      })
      t.equal(revoked.status, 200)
      t.equal((await sessionUser(server, rotated.body.access_token)).status, 403, 'the successor\'s session has ended')
      const after = await token(server, { grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token, client_id: client.client_id })
      t.equal(after.body.error, 'invalid_grant', 'and the successor refresh token is dead')
    })

    t.test('client_name carrying markup is shown escaped', async (t) => {
      const evil = (await register(server, { client_name: '<script>alert(1)</script><img src=x onerror=alert(2)>' })).body
      const { params } = valid()
      const response = await fetch(authorizeUrl(server, { ...params, client_id: evil.client_id }))
      t.equal(response.status, 200)
      const text = await response.text()
      t.notMatch(text, /<script>alert/)
      t.notMatch(text, /<img src=x/)
      t.match(text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/)
      const csp = response.headers.get('content-security-policy') ?? ''
      t.match(csp, /default-src 'none'/, 'a strict CSP')
      t.match(csp, /frame-ancestors 'none'/)
      t.match(csp, /form-action 'self' http:\/\/127\.0\.0\.1:8976/, 'form-action allows only this server and the redirect target')
      t.match(response.headers.get('set-cookie') ?? '', /HttpOnly; SameSite=Lax/)
    })

    // Last: it exhausts the sign-in attempts of this address.
    t.test('password attempts are limited per address', async (t) => {
      const browser = new Browser()
      const page = await browser.get(authorizeUrl(server, valid().params))
      const form = formOf(await page.text(), 'name="email"')
      let status = 0
      for (let i = 0; i < 40 && status !== 429; i++) {
        status = (await browser.post(new URL(form.action, base).toString(), { ...form.fields, email: USER.email, password: `guess ${i}` })).status
      }
      t.equal(status, 429)
    })
  })
}
