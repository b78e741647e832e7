import t from 'tap'
import { Browser, decodeEntities, formOf } from '../../scripts/lib/browser.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { REDIRECT_URI, sessionUser } from './helpers.ts'
import { authorizeUrl, pkce, register, token } from './manual-client.ts'

for (const backend of backends()) {
  t.test(`sign-in with a social provider through Supabase on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_MODE: 'oauth', OAUTH_PROVIDERS: 'github', AUTH_EXTERNAL_PROVIDERS: 'github' })
    t.teardown(() => server.dispose())
    const base = server.config.baseUrl
    const client = (await register(server)).body
    const { verifier, challenge } = pkce()
    const browser = new Browser()

    const page = await browser.get(authorizeUrl(server, {
      response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', state: 'social',
    }))
    const link = /<a class="provider" href="([^"]+)">Continue with GitHub<\/a>/.exec(await page.text())
    t.ok(link, 'the page offers the configured provider')

    const toSupabase = await browser.get(new URL(decodeEntities(link![1]!), base).toString())
    t.equal(toSupabase.status, 302)
    const supabaseAuthorize = new URL(toSupabase.headers.get('location')!)
    t.equal(`${supabaseAuthorize.origin}${supabaseAuthorize.pathname}`, `${base}/auth/v1/authorize`, 'the browser goes to Supabase /authorize')
    t.equal(supabaseAuthorize.searchParams.get('provider'), 'github')
    t.equal(supabaseAuthorize.searchParams.get('code_challenge_method'), 's256', 'with this server\'s own PKCE challenge')
    t.not(supabaseAuthorize.searchParams.get('code_challenge'), challenge, 'never the client\'s challenge')
    t.match(supabaseAuthorize.searchParams.get('redirect_to'), `${base}/auth/callback?state=`)

    const toProvider = await browser.get(supabaseAuthorize.toString())
    const providerPage = await browser.get(new URL(toProvider.headers.get('location')!, base).toString())
    const providerForm = formOf(await providerPage.text())
    const backFromProvider = await browser.post(providerForm.action, { ...providerForm.fields, email: 'octo@example.com', name: 'Octo', action: 'approve' })
    const toOurCallback = await browser.get(new URL(backFromProvider.headers.get('location')!, base).toString())
    const callbackUrl = new URL(toOurCallback.headers.get('location')!, base)
    t.equal(`${callbackUrl.origin}${callbackUrl.pathname}`, `${base}/auth/callback`, 'Supabase sends the browser to our callback')
    t.ok(callbackUrl.searchParams.get('code'), `with its code: ${callbackUrl}`)

    const elsewhere = await new Browser().get(callbackUrl.toString())
    t.equal(elsewhere.status, 403, 'the callback refuses a browser that did not start the flow')
    t.notOk(elsewhere.headers.get('location'))

    const consentPage = await browser.get(callbackUrl.toString())
    t.equal(consentPage.status, 200)
    const consentText = await consentPage.text()
    t.match(consentText, /as <strong>octo@example\.com<\/strong>/, 'the consent page names the signed-in user')
    const consent = formOf(consentText, 'name="decision"')
    const done = await browser.post(new URL(consent.action, base).toString(), { ...consent.fields, decision: 'approve' })
    t.equal(done.status, 303)
    const back = new URL(done.headers.get('location')!)
    t.equal(back.searchParams.get('state'), 'social')
    const issued = await token(server, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: client.client_id })
    t.equal(issued.status, 200)
    t.equal((await sessionUser(server, issued.body.access_token)).email, 'octo@example.com', 'the token is the social user\'s Supabase session')

    const replayedCallback = await browser.get(callbackUrl.toString())
    t.equal(replayedCallback.status, 400, 'the callback works once')
  })
}
