import t from 'tap'
import { backends } from '../helpers/backends.ts'
import { signInThroughBrowser } from '../helpers/browser.ts'
import { startTestServer } from '../helpers/server.ts'
import { APP_CALLBACK, clientFor, signUpAndIn } from '../helpers/supabase.ts'

// supabase-js against the embedded auth under settings other than the defaults.
for (const backend of backends()) {
  t.test(`refresh token reuse with AUTH_REFRESH_TOKEN_REUSE_INTERVAL=0 on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_REFRESH_TOKEN_REUSE_INTERVAL: '0' })
    t.teardown(() => server.dispose())
    const { session } = await signUpAndIn(server, 'reuse@example.com')
    const first = (await clientFor(server).auth.refreshSession({ refresh_token: session!.refresh_token })).data.session!
    const second = (await clientFor(server).auth.refreshSession({ refresh_token: first.refresh_token })).data.session!
    t.ok(second, 'two rotations')

    const reused = await clientFor(server).auth.refreshSession({ refresh_token: session!.refresh_token })
    t.equal(reused.error?.code, 'refresh_token_already_used', 'a grandparent outside the interval is a reuse')
    t.equal(reused.error?.status, 400)
    t.equal(reused.error?.message, 'Invalid Refresh Token: Already Used')

    const active = await clientFor(server).auth.refreshSession({ refresh_token: second.refresh_token })
    t.equal(active.error?.code, 'refresh_token_already_used', 'the reuse killed the whole family')
  })

  t.test(`the reuse interval lets a recent token refresh again on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_REFRESH_TOKEN_REUSE_INTERVAL: '3600' })
    t.teardown(() => server.dispose())
    const { session } = await signUpAndIn(server, 'interval@example.com')
    const first = (await clientFor(server).auth.refreshSession({ refresh_token: session!.refresh_token })).data.session!
    const second = (await clientFor(server).auth.refreshSession({ refresh_token: first.refresh_token })).data.session!
    const again = await clientFor(server).auth.refreshSession({ refresh_token: session!.refresh_token })
    t.equal(again.error, null, 'a grandparent within the interval refreshes')
    t.not(again.data.session?.refresh_token, second.refresh_token, 'with a new child token')
  })

  t.test(`AUTH_DISABLE_SIGNUP=true on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_DISABLE_SIGNUP: 'true', AUTH_EXTERNAL_PROVIDERS: 'github' })
    t.teardown(() => server.dispose())
    const signUp = await clientFor(server).auth.signUp({ email: 'henry@example.com', password: 'correct horse' })
    t.equal(signUp.error?.code, 'signup_disabled')
    t.equal(signUp.error?.status, 422)
    t.equal(signUp.error?.message, 'Signups not allowed for this instance')
    const settings = await (await fetch(`${server.config.baseUrl}/auth/v1/settings`, { headers: { apikey: server.anonKey } })).json()
    t.equal(settings.disable_signup, true, '/settings says so')

    const { data } = await clientFor(server).auth.signInWithOAuth({ provider: 'github', options: { redirectTo: APP_CALLBACK, skipBrowserRedirect: true } })
    const final = new URL((await signInThroughBrowser(data.url!, { email: 'henry@example.com' })).final)
    t.equal(final.searchParams.get('error'), 'access_denied', 'a social sign-in cannot create a user either')
    t.equal(final.searchParams.get('error_code'), 'signup_disabled')
  })

  t.test(`AUTH_AUTOCONFIRM=false on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_AUTOCONFIRM: 'false' })
    t.teardown(() => server.dispose())
    const supabase = clientFor(server)
    const signUp = await supabase.auth.signUp({ email: 'ivy@example.com', password: 'correct horse' })
    t.equal(signUp.error, null)
    t.equal(signUp.data.session, null, 'no session until the email is confirmed')
    t.equal(signUp.data.user?.email, 'ivy@example.com', 'the bare user comes back')
    t.notOk(signUp.data.user?.email_confirmed_at, 'not confirmed')
    t.ok(signUp.data.user?.confirmation_sent_at, 'confirmation_sent_at is set')
    t.equal(signUp.data.user?.identities?.length, 1)

    const login = await supabase.auth.signInWithPassword({ email: 'ivy@example.com', password: 'correct horse' })
    t.equal(login.error?.code, 'email_not_confirmed')
    t.equal(login.error?.status, 400)

    const wrong = await supabase.auth.signInWithPassword({ email: 'ivy@example.com', password: 'wrong password' })
    t.equal(wrong.error?.code, 'invalid_credentials', 'a wrong password says nothing about confirmation')

    const again = await supabase.auth.signUp({ email: 'ivy@example.com', password: 'correct horse' })
    t.equal(again.error, null, 'signing up again looks like success (no account listing)')
    t.not(again.data.user?.id, signUp.data.user?.id, 'with a made-up user')
    t.same(again.data.user?.identities, [])
  })
}
