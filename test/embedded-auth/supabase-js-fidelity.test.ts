import t from 'tap'
import { isAuthWeakPasswordError } from '@supabase/supabase-js'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { APP_CALLBACK, clientFor, signUpAndIn } from '../helpers/supabase.ts'

// Where the embedded auth used to differ from GoTrue as supabase-js sees it: each finding
// has a test named after it.
for (const backend of backends()) {
  t.test(`supabase-js sees GoTrue's answers on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend)
    t.teardown(() => server.dispose())
    const authUrl = `${server.config.baseUrl}/auth/v1`
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${authUrl}${path}`, { ...init, headers: { apikey: server.anonKey, 'content-type': 'application/json', 'x-supabase-api-version': '2024-01-01', ...init.headers } })

    t.test('last_sign_in_at missing after an auto-confirmed sign-up', async (t) => {
      const supabase = clientFor(server)
      const before = Date.now()
      const signUp = await supabase.auth.signUp({ email: 'lastsign@example.com', password: 'correct horse' })
      t.equal(signUp.error, null)
      const signedUpAt = signUp.data.user?.last_sign_in_at
      t.ok(signedUpAt, 'the sign-up answer carries last_sign_in_at')
      t.ok(Date.parse(signedUpAt!) >= before - 1000, 'set by this sign-up')
      const user = await clientFor(server).auth.getUser(signUp.data.session!.access_token)
      t.equal(user.data.user?.last_sign_in_at, signedUpAt, 'GET /user has it')
      const refreshed = await clientFor(server).auth.refreshSession({ refresh_token: signUp.data.session!.refresh_token })
      t.equal(refreshed.data.user?.last_sign_in_at, signedUpAt, 'and so does the refreshed session, unchanged by the refresh')
    })

    t.test('a password sign-in records last_sign_in_at', async (t) => {
      const { session } = await signUpAndIn(server, 'pkce-last@example.com')
      const user = await clientFor(server).auth.getUser(session!.access_token)
      t.ok(user.data.user?.last_sign_in_at, 'a password sign-in records it too')
    })

    t.test('sign-up checked the email before the password', async (t) => {
      const weak = await clientFor(server).auth.signUp({ email: 'invalid-email', password: '123' })
      t.ok(isAuthWeakPasswordError(weak.error), 'a weak password is found first, with an invalid email')
      t.equal(weak.error?.status, 422)
      t.equal(weak.error?.code, 'weak_password')
      const empty = await clientFor(server).auth.signUp({ email: 'invalid-email', password: '' })
      t.equal(empty.error?.code, 'validation_failed', 'an empty password comes before the email too')
      t.equal(empty.error?.message, 'Signup requires a valid password')
      const badEmail = await clientFor(server).auth.signUp({ email: 'invalid-email', password: 'correct horse' })
      t.equal(badEmail.error?.code, 'validation_failed', 'a good password then meets the email check')
      t.equal(badEmail.error?.status, 400)
      const longPassword = await clientFor(server).auth.signUp({ email: 'long@example.com', password: 'é'.repeat(37) })
      t.equal(longPassword.error?.message, 'Password cannot be longer than 72 characters', 'the limit counts bytes, as bcrypt does')
      const phone = await call('/signup', { method: 'POST', body: JSON.stringify({ phone: '+15551234567', password: 'correct horse' }) })
      t.equal(phone.status, 400, 'phone sign-ups are off: 400, as GoTrue')
      t.equal((await phone.json()).code, 'phone_provider_disabled')
    })

    t.test('features not offered answered 404 not_found', async (t) => {
      const { supabase, session } = await signUpAndIn(server, 'features@example.com')

      const sso = await clientFor(server).auth.signInWithSSO({ domain: 'example.com' })
      t.equal(sso.error?.status, 404)
      t.equal(sso.error?.code, 'saml_provider_disabled')
      t.equal(sso.error?.message, 'SAML 2.0 is disabled')

      const link = await supabase.auth.linkIdentity({ provider: 'github', options: { redirectTo: APP_CALLBACK } })
      t.equal(link.error?.code, 'manual_linking_disabled')
      t.equal(link.error?.message, 'Manual linking is disabled')
      const linkAnonymous = await call('/user/identities/authorize?provider=github')
      t.equal(linkAnonymous.status, 401, 'linking checks the session first')
      const user = (await supabase.auth.getUser()).data.user!
      const unlink = await supabase.auth.unlinkIdentity(user.identities![0]!)
      t.equal(unlink.error?.code, 'manual_linking_disabled')

      const enroll = await supabase.auth.mfa.enroll({ factorType: 'totp' })
      t.equal(enroll.error?.status, 422)
      t.equal(enroll.error?.code, 'mfa_totp_enroll_not_enabled')
      const noSession = await call('/factors', { method: 'POST', body: JSON.stringify({ factor_type: 'totp' }) })
      t.equal(noSession.status, 401, '/factors without a session: the bearer check comes first')
      t.equal((await noSession.json()).code, 'no_authorization')
      const bearer = { authorization: `Bearer ${session!.access_token}` }
      const challenge = await call('/factors/not-a-uuid/challenge', { method: 'POST', headers: bearer, body: '{}' })
      t.equal(challenge.status, 404)
      t.equal((await challenge.json()).message, 'factor_id must be an UUID')
      const unknownFactor = await call('/factors/8f1c2a4e-1111-4a2b-9c3d-000000000001', { method: 'DELETE', headers: bearer })
      t.equal((await unknownFactor.json()).code, 'mfa_factor_not_found')
      const wrongType = await call('/factors', { method: 'POST', headers: bearer, body: JSON.stringify({ factor_type: 'sms' }) })
      t.equal((await wrongType.json()).message, 'factor_type needs to be totp, phone, or webauthn')

      const passkeys = await call('/passkeys', { headers: bearer })
      t.equal(passkeys.status, 404)
      t.equal((await passkeys.json()).code, 'passkey_disabled')
    })

    t.test('recovery, OTP, verify and resend answered 404 not_found', async (t) => {
      const anyone = clientFor(server)
      const unknown = await anyone.auth.resetPasswordForEmail('nobody-here@example.com')
      t.equal(unknown.error, null, 'recovery for an unknown email succeeds, as GoTrue (no account listing)')
      t.same(unknown.data, {})
      await signUpAndIn(server, 'recover@example.com')
      const known = await anyone.auth.resetPasswordForEmail('recover@example.com')
      t.equal(known.error, null, 'and for a known one alike')
      const noEmail = await call('/recover', { method: 'POST', body: '{}' })
      t.equal((await noEmail.json()).message, 'Password recovery requires an email')

      const otp = await anyone.auth.signInWithOtp({ email: 'recover@example.com' })
      t.equal(otp.error?.status, 422)
      t.equal(otp.error?.code, 'email_provider_disabled')
      t.equal(otp.error?.message, 'Login with magic link is disabled')
      const phoneOtp = await anyone.auth.signInWithOtp({ phone: '+15551234567' })
      t.equal(phoneOtp.error?.code, 'phone_provider_disabled')
      t.equal(phoneOtp.error?.status, 400)

      const verify = await anyone.auth.verifyOtp({ email: 'recover@example.com', token: '123456', type: 'email' })
      t.equal(verify.error?.status, 403)
      t.equal(verify.error?.code, 'otp_expired')
      t.equal(verify.error?.message, 'Token has expired or is invalid')
      const hash = await anyone.auth.verifyOtp({ token_hash: 'abcdef', type: 'recovery' })
      t.equal(hash.error?.message, 'Email link is invalid or has expired')
      const link = await fetch(`${authUrl}/verify?type=signup&token=abcdef&redirect_to=${encodeURIComponent(APP_CALLBACK)}`, { redirect: 'manual' })
      t.equal(link.status, 303, 'an email link opened in a browser goes back to the app')
      const fragment = new URLSearchParams(new URL(link.headers.get('location')!).hash.slice(1))
      t.equal(fragment.get('error_code'), 'otp_expired')
      t.equal(fragment.get('error'), 'access_denied')

      const resend = await anyone.auth.resend({ type: 'signup', email: 'recover@example.com' })
      t.equal(resend.error, null, 'resend answers {} as for a confirmed user')
      const resendSms = await anyone.auth.resend({ type: 'sms', phone: '+15551234567' })
      t.equal(resendSms.error?.code, 'phone_provider_disabled')
    })

    t.test('id_token and web3 grants answered 400 unsupported_grant_type', async (t) => {
      const google = await clientFor(server).auth.signInWithIdToken({ provider: 'google', token: 'a.b.c' })
      t.equal(google.error?.status, 400)
      t.equal(google.error?.code, 'provider_disabled')
      t.equal(google.error?.message, 'Provider (issuer "https://accounts.google.com") is not enabled')
      const apple = await clientFor(server).auth.signInWithIdToken({ provider: 'apple', token: 'not-a-jwt' })
      t.equal(apple.error?.message, 'Unable to detect issuer in ID token for Apple provider')
      const custom = await clientFor(server).auth.signInWithIdToken({ provider: 'acme' as 'google', token: 'a.b.c' })
      t.equal(custom.error?.message, 'Custom OIDC provider "acme" not allowed')
      const missing = await call('/token?grant_type=id_token', { method: 'POST', body: '{}' })
      t.same(await missing.json(), { error: 'invalid request', error_description: 'id_token required' }, 'GoTrue answers this one in OAuth shape')
      const web3 = await call('/token?grant_type=web3', { method: 'POST', body: JSON.stringify({ chain: 'solana' }) })
      t.equal(web3.status, 422)
      t.equal((await web3.json()).code, 'web3_provider_disabled')
      const other = await call('/token?grant_type=client_credentials', { method: 'POST', body: '{}' })
      t.equal((await other.json()).message, 'unsupported_grant_type')
    })

    t.test('reauthenticate answers as with secure password change off', async (t) => {
      const { supabase } = await signUpAndIn(server, 'reauth@example.com')
      const result = await supabase.auth.reauthenticate()
      t.equal(result.error, null)
    })
  })
}
