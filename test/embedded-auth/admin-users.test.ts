import t from 'tap'
import fc from 'fast-check'
import { createClient, isAuthSessionMissingError } from '@supabase/supabase-js'
import { backends } from '../helpers/backends.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { clientFor, SERVER_CLIENT, signIn, signUpAndIn } from '../helpers/supabase.ts'

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
const adminFor = (server: TestServer, key = server.serviceRoleKey!) => createClient(server.config.baseUrl, key, { auth: SERVER_CLIENT })

/** A raw admin call, for what supabase-js would not send. */
const adminCall = (server: TestServer, path: string, init: RequestInit & { token?: string } = {}) =>
  fetch(`${server.config.baseUrl}/auth/v1/admin${path}`, {
    ...init,
    headers: {
      apikey: server.anonKey,
      'content-type': 'application/json',
      ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }),
      ...init.headers,
    },
  })

for (const backend of backends()) {
  t.test(`supabase.auth.admin against the embedded auth on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend)
    t.teardown(() => server.dispose())
    const admin = adminFor(server)
    t.match(server.serviceRoleKey, /^sb_secret_[A-Za-z0-9_-]{43}$/, 'a derived service-role key')

    t.test('createUser, then the user signs in with what the administrator set', async (t) => {
      const created = await admin.auth.admin.createUser({
        email: 'Made@Example.com',
        password: 'set by admin',
        email_confirm: true,
        user_metadata: { name: 'Made' },
        app_metadata: { plan: 'team' },
      })
      t.equal(created.error, null)
      const user = created.data.user!
      t.equal(user.email, 'made@example.com')
      t.ok(user.email_confirmed_at, 'email_confirm confirms')
      t.same(user.user_metadata, { name: 'Made', email_verified: true })
      t.same(user.app_metadata, { provider: 'email', providers: ['email'], plan: 'team' })
      t.notOk(user.last_sign_in_at, 'nobody signed in yet')
      const { session } = await signIn(server, 'made@example.com', 'set by admin')
      t.equal(claimsOf(session!.access_token).app_metadata.plan, 'team', 'app_metadata reaches the token')

      const again = await admin.auth.admin.createUser({ email: 'made@example.com', password: 'whatever1' })
      t.equal(again.error?.code, 'email_exists')
      t.equal(again.error?.status, 422)

      const unconfirmed = await admin.auth.admin.createUser({ email: 'unconfirmed@example.com', password: 'set by admin' })
      t.notOk(unconfirmed.data.user?.email_confirmed_at)
      t.notOk(unconfirmed.data.user?.confirmation_sent_at, 'nothing was sent')
      t.equal((await clientFor(server).auth.signInWithPassword({ email: 'unconfirmed@example.com', password: 'set by admin' })).error?.code, 'email_not_confirmed')

      const chosenId = '0d4f3b8e-5a59-4e8b-9c8e-6f2b1a7c9d01'
      const withId = await admin.auth.admin.createUser({ id: chosenId, email: 'chosen@example.com', email_confirm: true } as never)
      t.equal(withId.data.user?.id, chosenId, 'an administrator may choose the id')
      const noPassword = await clientFor(server).auth.signInWithPassword({ email: 'chosen@example.com', password: '' })
      t.equal(noPassword.error?.code, 'invalid_credentials', 'a user created without a password cannot sign in with one')
      const noEmail = await admin.auth.admin.createUser({ password: 'x' } as never)
      t.equal(noEmail.error?.message, 'Cannot create a user without either an email or phone')

      // Finding: createUser took `xx:;x@x.x`; GoTrue's format check refuses `:` and `;` in the local part.
      const badEmail = await admin.auth.admin.createUser({ email: 'xx:;x@x.x', password: 'password123' })
      t.equal(badEmail.error?.message, 'Unable to validate email address: invalid format', 'createUser checks the email as GoTrue does')
      t.equal(badEmail.data.user, null)
      t.equal((await admin.auth.admin.createUser({ email: 'ada@localhost', password: 'password123' })).error, null, 'a one-label host passes, as in GoTrue')
    })

    t.test('getUserById and listUsers with GoTrue pagination', async (t) => {
      for (const n of [1, 2, 3]) await admin.auth.admin.createUser({ email: `page${n}@example.com`, email_confirm: true })
      const all = await admin.auth.admin.listUsers()
      t.equal(all.error, null)
      const total = all.data.users.length
      t.ok(total >= 3)
      t.equal((all.data as { total: number }).total, total)
      const created = all.data.users.map((user) => Date.parse(user.created_at))
      t.same(created, [...created].sort((a, b) => b - a), 'newest first, as GoTrue sorts')

      const page = await admin.auth.admin.listUsers({ page: 2, perPage: 2 })
      t.equal(page.data.users.length, 2)
      t.same(page.data.users.map((u) => u.id), all.data.users.slice(2, 4).map((u) => u.id), 'the second page of two')
      t.equal((page.data as { lastPage: number }).lastPage, Math.ceil(total / 2))
      t.equal((page.data as { nextPage: number | null }).nextPage, total > 4 ? 3 : null)

      const raw = await adminCall(server, '/users?per_page=1&page=1', { token: server.serviceRoleKey! })
      t.equal(raw.headers.get('x-total-count'), String(total))
      t.equal(raw.headers.get('link'), `</auth/v1/admin/users?page=2&per_page=1>; rel="next", </auth/v1/admin/users?page=${total}&per_page=1>; rel="last"`)
      t.equal((await raw.json()).aud, 'authenticated')

      const one = await admin.auth.admin.getUserById(all.data.users[0]!.id)
      t.equal(one.data.user?.email, all.data.users[0]!.email)
      const missing = await admin.auth.admin.getUserById('8f1c2a4e-1111-4a2b-9c3d-000000000001')
      t.equal(missing.error?.status, 404)
      t.equal(missing.error?.code, 'user_not_found')
      const badId = await adminCall(server, '/users/not-a-uuid', { token: server.serviceRoleKey! })
      t.equal(badId.status, 404)
      t.equal((await badId.json()).msg, 'user_id must be an UUID')

      for (const [query, message] of [
        ['page=abc', 'Bad Pagination Parameters: strconv.ParseUint: parsing "abc": invalid syntax'],
        ['per_page=-1', 'Bad Pagination Parameters: strconv.ParseUint: parsing "-1": invalid syntax'],
        ['page=99999999999999999999', 'Bad Pagination Parameters: strconv.ParseUint: parsing "99999999999999999999": invalid syntax'],
        ['sort=email', "Bad Sort Parameters: bad field for sort 'email'"],
      ]) {
        const response = await adminCall(server, `/users?${query}`, { token: server.serviceRoleKey! })
        t.equal(response.status, 400, `${query}: 400`)
        t.equal((await response.json()).msg, message)
      }
      const zero = await adminCall(server, '/users?per_page=0', { token: server.serviceRoleKey! })
      t.equal(zero.status, 200, 'a page size of 0 is the default size, not a crash')
      const far = await admin.auth.admin.listUsers({ page: 1000, perPage: 1000 })
      t.same(far.data.users, [], 'a page past the end is empty')
      const oldest = await adminCall(server, '/users?sort=created_at%20asc&per_page=1', { token: server.serviceRoleKey! })
      t.equal((await oldest.json()).users[0].id, all.data.users.at(-1)!.id, 'sort=created_at asc')
    })

    t.test('updateUserById: password, email, metadata and bans', async (t) => {
      const { session } = await signUpAndIn(server, 'managed@example.com')
      const id = claimsOf(session!.access_token).sub

      const password = await admin.auth.admin.updateUserById(id, { password: 'reset by admin' })
      t.equal(password.error, null)
      t.ok(isAuthSessionMissingError((await clientFor(server).auth.getUser(session!.access_token)).error), "an administrator's new password ends every session")
      const weak = await admin.auth.admin.updateUserById(id, { password: 'abc' })
      t.equal(weak.error?.code, 'weak_password')

      const email = await admin.auth.admin.updateUserById(id, { email: 'Managed2@Example.com', email_confirm: true })
      t.equal(email.data.user?.email, 'managed2@example.com')
      const relogin = await signIn(server, 'managed2@example.com', 'reset by admin')
      t.ok(relogin.session, 'the new email and password sign in')

      const metadata = await admin.auth.admin.updateUserById(id, { user_metadata: { name: 'M' }, app_metadata: { plan: 'pro', provider: null } })
      t.same(metadata.data.user?.app_metadata, { providers: ['email'], plan: 'pro' }, 'app_metadata merges; null removes a key')
      t.equal(metadata.data.user?.user_metadata.name, 'M')
      const refreshed = await clientFor(server).auth.refreshSession({ refresh_token: relogin.session!.refresh_token })
      t.equal(claimsOf(refreshed.data.session!.access_token).app_metadata.plan, 'pro', 'claims follow on the next refresh')

      const banned = await admin.auth.admin.updateUserById(id, { ban_duration: '24h' })
      t.ok(Date.parse(banned.data.user!.banned_until!) > Date.now() + 23 * 3600_000)
      t.equal((await clientFor(server).auth.signInWithPassword({ email: 'managed2@example.com', password: 'reset by admin' })).error?.code, 'user_banned')
      const unbanned = await admin.auth.admin.updateUserById(id, { ban_duration: 'none' })
      t.notOk(unbanned.data.user?.banned_until)
      const badBan = await admin.auth.admin.updateUserById(id, { ban_duration: '1 day' })
      t.equal(badBan.error?.message, 'invalid format for ban duration: time: invalid duration "1 day"')

      await admin.auth.admin.createUser({ email: 'other@example.com', email_confirm: true })
      const taken = await admin.auth.admin.updateUserById(id, { email: 'other@example.com' })
      t.equal(taken.error?.code, 'email_exists', 'a taken email is refused, not a server error')

      const factors = await admin.auth.admin.mfa.listFactors({ userId: id })
      t.same(factors.data?.factors, [])
    })

    t.test('deleteUser, hard and soft', async (t) => {
      const hard = await signUpAndIn(server, 'hard@example.com')
      const hardId = claimsOf(hard.session!.access_token).sub
      t.equal((await admin.auth.admin.deleteUser(hardId)).error, null)
      t.equal((await admin.auth.admin.getUserById(hardId)).error?.code, 'user_not_found', 'gone')
      t.equal((await clientFor(server).auth.getUser(hard.session!.access_token)).error?.code, 'user_not_found', 'its tokens name nobody now')
      t.equal((await clientFor(server).auth.refreshSession({ refresh_token: hard.session!.refresh_token })).error?.code, 'refresh_token_not_found', 'its sessions went with it')

      const soft = await signUpAndIn(server, 'soft@example.com')
      const softId = claimsOf(soft.session!.access_token).sub
      t.equal((await admin.auth.admin.deleteUser(softId, true)).error, null)
      const kept = await admin.auth.admin.getUserById(softId)
      t.ok(kept.data.user?.deleted_at, 'a soft-deleted user stays, marked')
      t.not(kept.data.user?.email, 'soft@example.com', 'without its email')
      t.same(kept.data.user?.user_metadata, {})
      t.ok(isAuthSessionMissingError((await clientFor(server).auth.getUser(soft.session!.access_token)).error), 'its sessions end')
      t.equal((await clientFor(server).auth.signInWithPassword({ email: 'soft@example.com', password: 'correct horse' })).error?.code, 'invalid_credentials')
      const again = await clientFor(server).auth.signUp({ email: 'soft@example.com', password: 'correct horse' })
      t.equal(again.error, null, 'the email is free again')
      t.equal((await admin.auth.admin.deleteUser(softId, true)).error, null, 'a second soft delete is a no-op')
    })

    t.test('the admin API refuses everyone without the service-role key', async (t) => {
      const { session } = await signUpAndIn(server, 'intruder@example.com')
      const asAnon = await adminFor(server, server.anonKey).auth.admin.listUsers()
      t.equal(asAnon.error?.status, 403, 'the anon key is refused')
      t.equal(asAnon.error?.code, 'bad_jwt')
      const asUser = await adminCall(server, '/users', { token: session!.access_token })
      t.equal(asUser.status, 403, "a user's own valid token is refused")
      t.equal((await asUser.json()).error_code, 'not_admin')
      const none = await adminCall(server, '/users')
      t.equal(none.status, 401)
      t.equal((await none.json()).error_code, 'no_authorization')
      for (const token of [`${server.serviceRoleKey}x`, server.serviceRoleKey!.slice(0, -1), server.serviceRoleKey!.toUpperCase(), 'sb_secret_']) {
        const response = await adminCall(server, '/users', { token })
        t.equal(response.status, 403, 'a near miss of the key is refused')
      }
      const create = await adminCall(server, '/users', { method: 'POST', token: session!.access_token, body: JSON.stringify({ email: 'evil@example.com', email_confirm: true }) })
      t.equal(create.status, 403)
      const badJson = await adminCall(server, '/users', { method: 'POST', body: 'not json' })
      t.equal(badJson.status, 401, 'the key is checked before the body is read')
      const elsewhere = await adminCall(server, '/generate_link', { method: 'POST', body: '{}' })
      t.equal(elsewhere.status, 401, 'admin routes the embedded auth lacks are behind the key too')
      // Finding: POST /invite answered 404 to anyone; GoTrue checks the key on it as on /admin.
      const invite = (token?: string) =>
        fetch(`${server.config.baseUrl}/auth/v1/invite`, {
          method: 'POST',
          headers: { apikey: server.anonKey, 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ email: 'invited@example.com' }),
        })
      t.equal((await invite()).status, 401, '/invite is behind the key')
      t.equal((await invite(session!.access_token)).status, 403)
      const invited = await admin.auth.admin.inviteUserByEmail('invited@example.com')
      t.equal(invited.error?.status, 404, 'and with it, not offered')
      t.equal(invited.error?.code, 'not_found')
      t.equal((await clientFor(server).auth.signInWithPassword({ email: 'evil@example.com', password: '' })).error?.code, 'invalid_credentials', 'nobody was created')

      for (const body of ['{"email": 5}', '{"email_confirm": "yes"}', '{"user_metadata": []}', '[]']) {
        const response = await adminCall(server, '/users', { method: 'POST', token: server.serviceRoleKey!, body })
        t.equal(response.status, 400, `${body}: 400`)
        t.equal((await response.json()).error_code, 'bad_json')
      }
      const hash = await adminCall(server, '/users', { method: 'POST', token: server.serviceRoleKey!, body: JSON.stringify({ email: 'h@example.com', password_hash: 'plain' }) })
      t.equal(hash.status, 400)
    })
  })

  t.test(`no body or query makes the admin API or PUT /user answer 500, with the right keys in hand, on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend)
    t.teardown(() => server.dispose())
    const { session } = await signUpAndIn(server, 'fuzzed@example.com')
    const target = claimsOf(session!.access_token).sub
    const value = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }))
    const fields = ['id', 'email', 'password', 'password_hash', 'email_confirm', 'user_metadata', 'app_metadata', 'ban_duration', 'data', 'phone', 'should_soft_delete', 'nonce']
    const body = fc.oneof(fc.dictionary(fc.constantFrom(...fields), value, { maxKeys: 4 }).map((object) => JSON.stringify(object)), fc.string({ maxLength: 20 }))
    const query = fc.dictionary(fc.constantFrom('page', 'per_page', 'sort', 'filter'), fc.string({ maxLength: 8 }), { maxKeys: 3 })
    const routes: [string, string, string][] = [
      ['GET', '/auth/v1/admin/users', server.serviceRoleKey!],
      ['POST', '/auth/v1/admin/users', server.serviceRoleKey!],
      ['GET', `/auth/v1/admin/users/${target}`, server.serviceRoleKey!],
      ['PUT', `/auth/v1/admin/users/${target}`, server.serviceRoleKey!],
      ['PUT', '/auth/v1/user', session!.access_token],
    ]
    let tried = 0
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), body, query, async ([method, url, token], payload, search) => {
        const response = await server.app.inject({
          method: method as 'GET',
          url: `${url}?${new URLSearchParams(search)}`,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(method === 'GET' ? {} : { payload }),
        })
        tried++
        if (response.statusCode >= 500) throw new Error(`${method} ${url} ${payload}: ${response.statusCode} ${response.body}`)
        if (response.statusCode >= 400 && typeof JSON.parse(response.body).error_code !== 'string') throw new Error(`${method} ${url}: not a GoTrue error: ${response.body}`)
      }),
      { numRuns: 300 },
    )
    t.equal(tried, 300, '300 requests, none answered 5xx')
  })

  t.test(`SUPABASE_SERVICE_ROLE_KEY and an enforced anon key on ${backend.name}`, async (t) => {
    const serviceKey = 'a-service-role-key-chosen-by-the-operator-0123456789'
    const server = await startTestServer(backend, { SUPABASE_SERVICE_ROLE_KEY: serviceKey, SUPABASE_ANON_KEY: 'sb_publishable_enforced' })
    t.teardown(() => server.dispose())
    t.equal(server.serviceRoleKey, serviceKey)
    const created = await adminFor(server).auth.admin.createUser({ email: 'configured@example.com', email_confirm: true })
    t.equal(created.error, null, 'the configured key works, and passes the apikey check')
    const listed = await adminFor(server, 'sb_secret_not_this_one_at_all_0123456789').auth.admin.listUsers()
    t.equal(listed.error?.status, 401, 'another key does not pass the apikey check')
  })
}
