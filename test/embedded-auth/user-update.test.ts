import t from 'tap'
import { createClient, isAuthSessionMissingError, isAuthWeakPasswordError } from '@supabase/supabase-js'
import { backends } from '../helpers/backends.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { clientFor, SERVER_CLIENT, signIn, signUpAndIn } from '../helpers/supabase.ts'

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())

/** A raw PUT /user, for what supabase-js would not send. */
const putUser = (server: TestServer, token: string | undefined, body: string) =>
  fetch(`${server.config.baseUrl}/auth/v1/user`, {
    method: 'PUT',
    headers: { apikey: server.anonKey, 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  })

for (const backend of backends()) {
  t.test(`PUT /user through supabase-js updateUser on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend)
    t.teardown(() => server.dispose())

    t.test('a new password: the old one stops working and every other session ends', async (t) => {
      const here = await signUpAndIn(server, 'pw@example.com')
      const elsewhere = await signIn(server, 'pw@example.com')
      const updated = await here.supabase.auth.updateUser({ password: 'a brand new secret', nonce: 'ignored: reauthentication is off' })
      t.equal(updated.error, null, 'the password changes (a nonce is not needed)')
      t.equal((await clientFor(server).auth.signInWithPassword({ email: 'pw@example.com', password: 'correct horse' })).error?.code, 'invalid_credentials', 'the old password is refused')
      t.equal((await clientFor(server).auth.signInWithPassword({ email: 'pw@example.com', password: 'a brand new secret' })).error, null, 'the new one works')
      t.equal((await clientFor(server).auth.getUser(here.session!.access_token)).error, null, 'the session that changed it lives on')
      t.ok(isAuthSessionMissingError((await clientFor(server).auth.getUser(elsewhere.session!.access_token)).error), 'another session ends')
      const refreshed = await clientFor(server).auth.refreshSession({ refresh_token: elsewhere.session!.refresh_token })
      t.equal(refreshed.error?.code, 'refresh_token_not_found', 'and cannot be refreshed')

      const same = await here.supabase.auth.updateUser({ password: 'a brand new secret' })
      t.equal(same.error?.code, 'same_password')
      t.equal(same.error?.status, 422)
      const weak = await here.supabase.auth.updateUser({ password: 'abc' })
      t.ok(isAuthWeakPasswordError(weak.error), 'the sign-up rules apply')
      const tooLong = await here.supabase.auth.updateUser({ password: 'x'.repeat(73) })
      t.equal(tooLong.error?.code, 'validation_failed')
    })

    t.test('user metadata merges, and the claims follow on the next refresh', async (t) => {
      const { supabase, session } = await signUpAndIn(server, 'meta@example.com')
      const first = await supabase.auth.updateUser({ data: { name: 'Meta', plan: 'pro' } })
      t.equal(first.error, null)
      t.same(first.data.user?.user_metadata, { email_verified: true, name: 'Meta', plan: 'pro' })
      const second = await supabase.auth.updateUser({ data: { plan: null, team: 'core' } })
      t.same(second.data.user?.user_metadata, { email_verified: true, name: 'Meta', team: 'core' }, 'null removes a key, others stay')
      t.notOk(claimsOf(session!.access_token).user_metadata.name, 'the token in hand keeps its claims')
      const refreshed = await clientFor(server).auth.refreshSession({ refresh_token: session!.refresh_token })
      t.same(claimsOf(refreshed.data.session!.access_token).user_metadata, { email_verified: true, name: 'Meta', team: 'core' }, 'the refreshed token carries them')
    })

    t.test('a new email applies at once with autoconfirm', async (t) => {
      await signUpAndIn(server, 'taken@example.com')
      const { supabase, session } = await signUpAndIn(server, 'old@example.com')
      const taken = await supabase.auth.updateUser({ email: 'Taken@Example.com' })
      t.equal(taken.error?.code, 'email_exists')
      t.equal(taken.error?.status, 422)
      const changed = await supabase.auth.updateUser({ email: 'New@Example.com' })
      t.equal(changed.error, null)
      t.equal(changed.data.user?.email, 'new@example.com')
      t.notOk(changed.data.user?.new_email, 'nothing waits for a confirmation')
      t.equal(changed.data.user?.identities?.[0]?.identity_data?.email, 'new@example.com', 'the email identity follows')
      t.equal((await clientFor(server).auth.signInWithPassword({ email: 'new@example.com', password: 'correct horse' })).error, null, 'signs in with the new email')
      t.equal((await clientFor(server).auth.signInWithPassword({ email: 'old@example.com', password: 'correct horse' })).error?.code, 'invalid_credentials')
      const refreshed = await clientFor(server).auth.refreshSession({ refresh_token: session!.refresh_token })
      t.equal(claimsOf(refreshed.data.session!.access_token).email, 'new@example.com', 'the next token has the new email')
    })

    t.test('what only an administrator may do, and input that is not right', async (t) => {
      const { session } = await signUpAndIn(server, 'admin-only@example.com')
      const appMetadata = await putUser(server, session!.access_token, JSON.stringify({ app_metadata: { role: 'admin' } }))
      t.equal(appMetadata.status, 403)
      t.equal((await appMetadata.json()).error_code, 'not_admin')
      const claims = claimsOf((await clientFor(server).auth.refreshSession({ refresh_token: session!.refresh_token })).data.session!.access_token)
      t.same(claims.app_metadata, { provider: 'email', providers: ['email'] }, 'app_metadata did not change')

      const noSession = await putUser(server, undefined, JSON.stringify({ data: { a: 1 } }))
      t.equal(noSession.status, 401)
      const anonKey = await putUser(server, server.anonKey, JSON.stringify({ data: { a: 1 } }))
      t.equal(anonKey.status, 403, 'the anon key is no user')
      t.equal((await anonKey.json()).error_code, 'bad_jwt')
      for (const body of ['{"password": 12345678}', '{"data": "x"}', '[]', '{"email": ["a@b.c"]}', 'not json']) {
        const response = await putUser(server, session!.access_token, body)
        t.equal(response.status, 400, `${body}: 400`)
        t.equal((await response.json()).error_code, 'bad_json')
      }
      const badEmail = await putUser(server, session!.access_token, JSON.stringify({ email: 'not-an-email' }))
      t.equal((await badEmail.json()).error_code, 'validation_failed')
      const phone = await putUser(server, session!.access_token, JSON.stringify({ phone: '+15551234567' }))
      t.equal((await phone.json()).error_code, 'phone_provider_disabled')
      const nothing = await putUser(server, session!.access_token, '{"password": null, "data": null}')
      t.equal(nothing.status, 200, 'null fields change nothing')
    })
  })

  t.test(`PUT /user email change without autoconfirm waits as new_email on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_AUTOCONFIRM: 'false' })
    t.teardown(() => server.dispose())
    const admin = createClient(server.config.baseUrl, server.serviceRoleKey!, { auth: SERVER_CLIENT })
    await admin.auth.admin.createUser({ email: 'wait@example.com', password: 'correct horse', email_confirm: true })
    const { supabase } = await signIn(server, 'wait@example.com')
    const changed = await supabase.auth.updateUser({ email: 'later@example.com' })
    t.equal(changed.error, null)
    t.equal(changed.data.user?.email, 'wait@example.com', 'the email stays')
    t.equal(changed.data.user?.new_email, 'later@example.com', 'the new one waits')
    t.ok(changed.data.user?.email_change_sent_at)
  })
}
