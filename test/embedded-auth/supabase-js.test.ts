import t from 'tap'
import { isAuthApiError, isAuthSessionMissingError, isAuthWeakPasswordError } from '@supabase/supabase-js'
import { backends } from '../helpers/backends.ts'
import { memoryStorage, signInThroughBrowser } from '../helpers/browser.ts'
import { startTestServer } from '../helpers/server.ts'
import { APP_CALLBACK, clientFor, signIn, signUpAndIn } from '../helpers/supabase.ts'

for (const backend of backends()) {
  t.test(`supabase-js against the embedded auth on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_EXTERNAL_PROVIDERS: 'github' })
    t.teardown(() => server.dispose())

    t.test('signUp, signInWithPassword and getUser', async (t) => {
      const supabase = clientFor(server)
      const signUp = await supabase.auth.signUp({ email: 'Alice@Example.com', password: 'correct horse', options: { data: { name: 'Alice' } } })
      t.equal(signUp.error, null, 'signUp succeeds')
      t.ok(signUp.data.session?.access_token, 'autoconfirm returns a session')
      t.equal(signUp.data.user?.email, 'alice@example.com', 'the email is stored lower-cased')
      t.equal(signUp.data.user?.user_metadata.name, 'Alice', 'signup data becomes user_metadata')
      t.ok(signUp.data.user?.email_confirmed_at, 'autoconfirm confirms the email')
      t.equal(signUp.data.session?.token_type, 'bearer')

      const wrong = await supabase.auth.signInWithPassword({ email: 'alice@example.com', password: 'wrong password' })
      t.ok(isAuthApiError(wrong.error), 'a wrong password is an AuthApiError')
      t.equal(wrong.error?.code, 'invalid_credentials')
      t.equal(wrong.error?.status, 400)
      t.equal(wrong.error?.message, 'Invalid login credentials')
      t.equal(wrong.data.session, null)

      const unknown = await supabase.auth.signInWithPassword({ email: 'nobody@example.com', password: 'correct horse' })
      t.equal(unknown.error?.code, 'invalid_credentials', 'an unknown user gets the same answer as a wrong password')

      const signIn = await supabase.auth.signInWithPassword({ email: 'alice@example.com', password: 'correct horse' })
      t.equal(signIn.error, null)
      const session = signIn.data.session!
      t.equal(typeof session.expires_in, 'number')
      t.equal(typeof session.expires_at, 'number')
      t.match(session.refresh_token, /^[a-z0-9]{12}$/, 'a 12-character refresh token, as GoTrue issues')
      const user = await clientFor(server).auth.getUser(session.access_token)
      t.equal(user.error, null)
      t.equal(user.data.user?.email, 'alice@example.com')
      t.equal(user.data.user?.id, signIn.data.user?.id)
      t.same(user.data.user?.app_metadata, { provider: 'email', providers: ['email'] })
      t.ok(user.data.user?.last_sign_in_at, 'the sign-in is recorded')
    })

    t.test('user_already_exists and weak_password', async (t) => {
      const supabase = clientFor(server)
      await signUpAndIn(server, 'bob@example.com')
      const again = await supabase.auth.signUp({ email: 'bob@example.com', password: 'another password' })
      t.equal(again.error?.code, 'user_already_exists')
      t.equal(again.error?.status, 422)
      t.equal(again.error?.message, 'User already registered')

      const weak = await supabase.auth.signUp({ email: 'carol@example.com', password: 'abc' })
      t.ok(isAuthWeakPasswordError(weak.error), 'a short password is an AuthWeakPasswordError')
      t.equal(weak.error?.code, 'weak_password')
      t.equal(weak.error?.status, 422)
      t.same(isAuthWeakPasswordError(weak.error) ? weak.error.reasons : undefined, ['length'])
      const notCreated = await supabase.auth.signInWithPassword({ email: 'carol@example.com', password: 'abc' })
      t.equal(notCreated.error?.code, 'invalid_credentials', 'a refused sign-up creates nobody')
    })

    t.test('refreshSession rotates, and a parent of the active token gets the active token back', async (t) => {
      const { session } = await signUpAndIn(server, 'dave@example.com')
      const first = await clientFor(server).auth.refreshSession({ refresh_token: session!.refresh_token })
      t.equal(first.error, null, 'refresh succeeds')
      const rotated = first.data.session!
      t.not(rotated.refresh_token, session!.refresh_token, 'a new refresh token')
      t.not(rotated.access_token, session!.access_token, 'a new access token')
      const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
      t.equal(claims(rotated.access_token).session_id, claims(session!.access_token).session_id, 'the same session')

      // The client failed to save the rotated token and presents the old one again.
      const retry = await clientFor(server).auth.refreshSession({ refresh_token: session!.refresh_token })
      t.equal(retry.error, null, 'the parent of the active token still refreshes')
      t.equal(retry.data.session?.refresh_token, rotated.refresh_token, 'and gets the active token, not a new one')

      const next = await clientFor(server).auth.refreshSession({ refresh_token: rotated.refresh_token })
      t.equal(next.error, null, 'the active token keeps working')
      t.not(next.data.session?.refresh_token, rotated.refresh_token)

      const unknown = await clientFor(server).auth.refreshSession({ refresh_token: 'abcdefghijkl' })
      t.equal(unknown.error?.code, 'refresh_token_not_found')
      t.equal(unknown.error?.status, 400)
    })

    t.test('signOut scopes, then getUser fails with AuthSessionMissingError', async (t) => {
      for (const scope of ['global', 'local', 'others'] as const) {
        const email = `signout-${scope}@example.com`
        const here = await signUpAndIn(server, email)
        const elsewhere = await signIn(server, email)
        const result = await here.supabase.auth.signOut({ scope })
        t.equal(result.error, null, `signOut(${scope}) succeeds`)
        const hereUser = await clientFor(server).auth.getUser(here.session!.access_token)
        const elsewhereUser = await clientFor(server).auth.getUser(elsewhere.session!.access_token)
        if (scope === 'others') {
          t.equal(hereUser.error, null, 'others: this session lives on')
        } else {
          t.ok(isAuthSessionMissingError(hereUser.error), `${scope}: this session is gone (AuthSessionMissingError)`)
          t.equal(hereUser.data.user, null)
        }
        if (scope === 'local') {
          t.equal(elsewhereUser.error, null, 'local: the other session lives on')
        } else {
          t.ok(isAuthSessionMissingError(elsewhereUser.error), `${scope}: the other session is gone`)
        }
        const refreshed = await clientFor(server).auth.refreshSession({ refresh_token: elsewhere.session!.refresh_token })
        if (scope === 'local') t.equal(refreshed.error, null, 'local: the other session still refreshes')
        else t.equal(refreshed.error?.code, 'refresh_token_not_found', `${scope}: the other session's refresh token is gone`)
      }
    })

    t.test('getClaims verifies an ES256 token with one JWKS fetch', async (t) => {
      const { session } = await signUpAndIn(server, 'erin@example.com')
      const requests: string[] = []
      const countingFetch: typeof fetch = (input, init) => {
        requests.push(new URL(input instanceof Request ? input.url : String(input)).pathname)
        return fetch(input, init)
      }
      // A storage key of its own: supabase-js caches JWKS per storage key for the whole process.
      const supabase = clientFor(server, { global: { fetch: countingFetch }, auth: { storageKey: `claims-${backend.name}` } })
      const header = JSON.parse(Buffer.from(session!.access_token.split('.')[0]!, 'base64url').toString())
      t.equal(header.alg, 'ES256')
      t.ok(header.kid, 'the token names its key')

      const first = await supabase.auth.getClaims(session!.access_token)
      t.equal(first.error, null)
      t.equal(first.data?.claims.sub, (await clientFor(server).auth.getUser(session!.access_token)).data.user?.id)
      t.equal(first.data?.claims.iss, `${server.config.baseUrl}/auth/v1`)
      t.equal(first.data?.claims.aud, 'authenticated')
      t.equal(first.data?.claims.role, 'authenticated')
      t.same(
        Object.keys(first.data!.claims),
        ['iss', 'sub', 'aud', 'exp', 'iat', 'email', 'phone', 'app_metadata', 'user_metadata', 'role', 'aal', 'amr', 'session_id', 'is_anonymous'],
        'GoTrue claims, in its order',
      )
      t.equal(first.data!.claims.exp! - first.data!.claims.iat!, 3600, 'an hour by default')
      t.same(requests, ['/auth/v1/.well-known/jwks.json'], 'exactly one request, to the JWKS')

      const second = await supabase.auth.getClaims(session!.access_token)
      t.equal(second.error, null)
      t.equal(requests.length, 1, 'the second verification makes no request')

      const [head, payload] = session!.access_token.split('.')
      const forged = `${head}.${payload}.${Buffer.alloc(64).toString('base64url')}`
      const bad = await supabase.auth.getClaims(forged)
      t.ok(bad.error, 'a bad signature does not verify')
    })

    t.test('signInWithOAuth (PKCE) and exchangeCodeForSession', async (t) => {
      const storage = memoryStorage()
      const options = { auth: { flowType: 'pkce' as const, persistSession: true, storage, storageKey: 'pkce-test' } }
      const starter = clientFor(server, options)
      const { data, error } = await starter.auth.signInWithOAuth({ provider: 'github', options: { redirectTo: APP_CALLBACK, skipBrowserRedirect: true } })
      t.equal(error, null)
      const authorizeUrl = new URL(data.url!)
      t.equal(authorizeUrl.pathname, '/auth/v1/authorize')
      t.equal(authorizeUrl.searchParams.get('code_challenge_method'), 's256')

      const steps = await signInThroughBrowser(data.url!, { email: 'Frank@Example.com', name: 'Frank' })
      t.match(steps.providerPage, `${server.config.baseUrl}/auth/v1/local-provider/authorize?`, 'the local provider page stands in for GitHub')
      t.match(steps.callback, `${server.config.baseUrl}/auth/v1/callback?`)
      const final = new URL(steps.final)
      t.equal(`${final.origin}${final.pathname}`, APP_CALLBACK, 'back to redirectTo')
      const code = final.searchParams.get('code')!
      t.match(code, /^[0-9a-f-]{36}$/, 'with a code')

      const verifierKeys = [...storage.items.keys()].filter((key) => key.endsWith('code-verifier'))
      t.ok(verifierKeys.length > 0, 'supabase-js stored the verifier')
      const saved = new Map(verifierKeys.map((key) => [key, storage.items.get(key)!]))

      // Another client over the same storage, as a callback handler on a server would be.
      const finisher = clientFor(server, options)
      const exchanged = await finisher.auth.exchangeCodeForSession(code)
      t.equal(exchanged.error, null, 'the code exchanges for a session')
      t.equal(exchanged.data.user?.email, 'frank@example.com')
      t.equal(exchanged.data.user?.app_metadata.provider, 'github')
      t.equal(exchanged.data.user?.user_metadata.name, 'Frank')
      const user = await clientFor(server).auth.getUser(exchanged.data.session!.access_token)
      t.equal(user.data.user?.id, exchanged.data.user?.id, 'the session works')

      for (const [key, value] of saved) storage.setItem(key, value)
      const reused = await finisher.auth.exchangeCodeForSession(code)
      t.equal(reused.error?.code, 'flow_state_not_found', 'the code works once')
      t.equal(reused.error?.status, 404)

      // A second social sign-in with the same email lands on the same user.
      const again = await starter.auth.signInWithOAuth({ provider: 'github', options: { redirectTo: APP_CALLBACK, skipBrowserRedirect: true } })
      const secondCode = new URL((await signInThroughBrowser(again.data.url!, { email: 'frank@example.com' })).final).searchParams.get('code')!
      const second = await finisher.auth.exchangeCodeForSession(secondCode)
      t.equal(second.data.user?.id, exchanged.data.user?.id, 'the same user signs in again')
    })

    t.test('signInWithOAuth (implicit) puts the session in the fragment', async (t) => {
      const supabase = clientFor(server)
      const { data } = await supabase.auth.signInWithOAuth({ provider: 'github', options: { redirectTo: APP_CALLBACK, skipBrowserRedirect: true } })
      t.notOk(new URL(data.url!).searchParams.has('code_challenge'), 'no PKCE in the implicit flow')
      const final = new URL((await signInThroughBrowser(data.url!, { email: 'grace@example.com' })).final)
      t.equal(final.search, '', 'nothing in the query')
      const fragment = new URLSearchParams(final.hash.slice(1))
      t.equal(fragment.get('token_type'), 'bearer')
      t.equal(fragment.get('sb'), '', 'the sb marker')
      t.ok(Number(fragment.get('expires_in')) > 0)
      t.match(fragment.get('refresh_token'), /^[a-z0-9]{12}$/)
      const keys = [...fragment.keys()]
      t.same(keys, [...keys].sort(), 'keys in sorted order, as GoTrue encodes them')
      const session = await supabase.auth.setSession({ access_token: fragment.get('access_token')!, refresh_token: fragment.get('refresh_token')! })
      t.equal(session.error, null)
      t.equal(session.data.user?.email, 'grace@example.com')
    })
  })
}
