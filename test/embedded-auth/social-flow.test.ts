import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { backends } from '../helpers/backends.ts'
import { expectRedirect, readForm, signInThroughBrowser } from '../helpers/browser.ts'
import { startTestServer } from '../helpers/server.ts'
import { authCodeDigest } from '../../src/embedded-auth/flow-codes.ts'

const APP = 'http://127.0.0.1:3999/auth/callback'
const V2024 = { 'x-supabase-api-version': '2024-01-01', 'content-type': 'application/json' }

/** A PKCE pair as supabase-js makes one: a random verifier and its S256 challenge. */
function pkcePair() {
  const verifier = randomBytes(56).toString('hex')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

for (const backend of backends()) {
  t.test(`the social sign-in flow, edge by edge, on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_EXTERNAL_PROVIDERS: 'github' })
    t.teardown(() => server.dispose())
    const base = `${server.config.baseUrl}/auth/v1`
    const authorizeUrl = (params: Record<string, string>) => `${base}/authorize?${new URLSearchParams({ provider: 'github', ...params })}`
    const exchange = (code: string, verifier: string) =>
      fetch(`${base}/token?grant_type=pkce`, { method: 'POST', headers: V2024, body: JSON.stringify({ auth_code: code, code_verifier: verifier }) })

    t.test('a PKCE code needs the right verifier, works once, and expires', async (t) => {
      const { verifier, challenge } = pkcePair()
      const final = new URL((await signInThroughBrowser(authorizeUrl({ redirect_to: APP, code_challenge: challenge, code_challenge_method: 's256' }), { email: 'pkce@example.com' })).final)
      const code = final.searchParams.get('code')!

      const wrong = await exchange(code, pkcePair().verifier)
      t.equal(wrong.status, 400)
      t.equal((await wrong.json()).code, 'bad_code_verifier', 'a wrong verifier is bad_code_verifier')
      const right = await exchange(code, verifier)
      t.equal(right.status, 200, 'a failed attempt does not burn the code')
      const session = await right.json()
      t.equal(session.user.email, 'pkce@example.com')
      const claims = JSON.parse(Buffer.from(session.access_token.split('.')[1], 'base64url').toString())
      t.equal(right.headers.get('sb-auth-user-id'), session.user.id, 'sb-auth-user-id names the user')
      t.equal(right.headers.get('sb-auth-session-id'), claims.session_id, 'sb-auth-session-id names the session')
      t.same(JSON.parse(Buffer.from(session.access_token.split('.')[1], 'base64url').toString()).amr.map((a: any) => a.method), ['oauth'], 'amr says oauth')
      const reused = await exchange(code, verifier)
      t.equal(reused.status, 404)
      t.equal((await reused.json()).code, 'flow_state_not_found', 'the code is single use')

      const plain = pkcePair()
      const plainCode = new URL((await signInThroughBrowser(authorizeUrl({ redirect_to: APP, code_challenge: plain.verifier.slice(0, 64), code_challenge_method: 'plain' }), { email: 'pkce@example.com' })).final).searchParams.get('code')!
      t.equal((await exchange(plainCode, plain.verifier.slice(0, 64))).status, 200, 'the plain method works too')

      const late = pkcePair()
      const lateCode = new URL((await signInThroughBrowser(authorizeUrl({ redirect_to: APP, code_challenge: late.challenge, code_challenge_method: 's256' }), { email: 'pkce@example.com' })).final).searchParams.get('code')!
      await server.db.query("update embedded_auth.flow_states set created_at = now() - interval '10 minutes', auth_code_issued_at = now() - interval '10 minutes' where auth_code = $1", [authCodeDigest(lateCode)])
      const expired = await exchange(lateCode, late.verifier)
      t.equal(expired.status, 422)
      t.equal((await expired.json()).code, 'flow_state_expired', 'after 300 s the code has expired')
      t.equal((await exchange(lateCode, late.verifier)).status, 404, 'and is gone')
    })

    t.test('redirect_to must be allowed; otherwise the site URL is used', async (t) => {
      const { challenge } = pkcePair()
      const evil = new URL((await signInThroughBrowser(authorizeUrl({ redirect_to: 'https://evil.example/steal', code_challenge: challenge, code_challenge_method: 's256' }), { email: 'redirect@example.com' })).final)
      t.equal(evil.origin, new URL(server.config.embeddedAuth.siteUrl).origin, 'an unknown site is replaced by SITE_URL')
      t.ok(evil.searchParams.get('code'), 'which still gets the code')
      const loopback = new URL((await signInThroughBrowser(authorizeUrl({ redirect_to: 'http://[::1]:5000/cb', code_challenge: challenge, code_challenge_method: 's256' }), { email: 'redirect@example.com' })).final)
      t.equal(loopback.host, '[::1]:5000', 'a loopback address is allowed')
      const kept = new URL((await signInThroughBrowser(authorizeUrl({ redirect_to: `${APP}?sb_flow_id=abc`, code_challenge: challenge, code_challenge_method: 's256' }), { email: 'redirect@example.com' })).final)
      t.equal(kept.searchParams.get('sb_flow_id'), 'abc', 'query parameters of redirect_to are kept')
    })

    t.test('a callback can be used once; a cancelled sign-in comes back as access_denied', async (t) => {
      const { challenge } = pkcePair()
      const steps = await signInThroughBrowser(authorizeUrl({ redirect_to: APP, code_challenge: challenge, code_challenge_method: 's256' }), { email: 'once@example.com' })
      const replay = new URL(await expectRedirect(await fetch(steps.callback, { redirect: 'manual' })))
      t.equal(replay.searchParams.get('error_code'), 'flow_state_already_used', 'replaying the callback fails')
      t.equal(new URLSearchParams(replay.hash.slice(1)).get('error_code'), 'flow_state_already_used', 'in the fragment too')
      t.equal(replay.searchParams.get('code'), null)

      const forged = new URL(steps.callback)
      forged.searchParams.set('state', crypto.randomUUID())
      const unknown = new URL(await expectRedirect(await fetch(forged, { redirect: 'manual' })))
      t.equal(unknown.searchParams.get('error_code'), 'bad_oauth_state', 'an unknown state fails')

      const fresh = await expectRedirect(await fetch(authorizeUrl({ redirect_to: APP }), { redirect: 'manual' }))
      const page = await fetch(fresh)
      const form = readForm(await page.text(), fresh)
      const cancelled = await fetch(form.action, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...form.fields, action: 'cancel' }),
      })
      const denied = new URL(await expectRedirect(await fetch(await expectRedirect(cancelled), { redirect: 'manual' })))
      t.equal(`${denied.origin}${denied.pathname}`, APP)
      t.equal(denied.searchParams.get('error'), 'access_denied', 'cancel comes back as access_denied')

      const tampered = new URL(steps.callback)
      tampered.searchParams.set('code', `${tampered.searchParams.get('code')}x`)
      const fresh2 = await expectRedirect(await fetch(authorizeUrl({ redirect_to: APP }), { redirect: 'manual' }))
      tampered.searchParams.set('state', new URL(fresh2).searchParams.get('state')!)
      const bad = new URL(await expectRedirect(await fetch(tampered, { redirect: 'manual' })))
      t.equal(bad.searchParams.get('error_code'), 'bad_oauth_callback', 'a provider code that does not verify fails')

      // A valid provider code, but issued for another sign-in: it must not open this one.
      const other = await expectRedirect(await fetch(authorizeUrl({ redirect_to: APP }), { redirect: 'manual' }))
      const stolen = new URL(steps.callback)
      stolen.searchParams.set('state', new URL(other).searchParams.get('state')!)
      const crossed = new URL(await expectRedirect(await fetch(stolen, { redirect: 'manual' })))
      t.equal(crossed.searchParams.get('error_code'), 'bad_oauth_callback', 'a code is bound to the flow it was issued for')
    })

    t.test('the local provider page escapes what it is given and forbids framing', async (t) => {
      const fresh = await expectRedirect(await fetch(authorizeUrl({ redirect_to: APP }), { redirect: 'manual' }))
      const evil = new URL(fresh)
      evil.searchParams.set('state', '"><script>alert(1)</script>')
      const page = await fetch(evil)
      const text = await page.text()
      t.equal(page.status, 200)
      t.notMatch(text, /<script>/, 'no markup gets through')
      t.match(text, /&quot;&gt;&lt;script&gt;/, 'it is shown escaped')
      t.match(page.headers.get('content-security-policy'), /frame-ancestors 'none'/)
      t.match(page.headers.get('content-security-policy'), /default-src 'none'/)
      t.equal(page.headers.get('x-frame-options'), 'DENY')
      const incomplete = await fetch(`${base}/local-provider/authorize?provider=github`)
      t.equal(incomplete.status, 400, 'a link not issued by /authorize is refused')
      const badEmail = await fetch(readForm(text, fresh).action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...readForm(await (await fetch(fresh)).text(), fresh).fields, email: 'nope', action: 'approve' }),
      })
      t.equal(badEmail.status, 400, 'an invalid email shows the page again')
      t.match(await badEmail.text(), /Enter a valid email address/)
    })

    t.test('concurrent requests never make a 500', async (t) => {
      const signups = await Promise.all(
        Array.from({ length: 4 }, () =>
          fetch(`${base}/signup`, { method: 'POST', headers: V2024, body: JSON.stringify({ email: 'race@example.com', password: 'correct horse' }) }),
        ),
      )
      const statuses = signups.map((r) => r.status).sort()
      t.same(statuses, [200, 422, 422, 422], 'one sign-up wins, the others hear user_already_exists')
      const session = await signups.find((r) => r.status === 200)!.json()
      for (const r of signups.filter((r) => r.status === 422)) t.equal((await r.json()).code, 'user_already_exists')

      const refreshes = await Promise.all(
        Array.from({ length: 4 }, () =>
          fetch(`${base}/token?grant_type=refresh_token`, { method: 'POST', headers: V2024, body: JSON.stringify({ refresh_token: session.refresh_token }) }),
        ),
      )
      t.same(refreshes.map((r) => r.status), [200, 200, 200, 200], 'concurrent refreshes of one token all succeed')
      const tokens = new Set(await Promise.all(refreshes.map(async (r) => (await r.json()).refresh_token)))
      t.equal(tokens.size, 1, 'and agree on the one new token')
    })
  })
}
