import { createHash, randomBytes } from 'node:crypto'
import t from 'tap'
import { createClient } from '@supabase/supabase-js'
import { decodeJwt } from 'jose'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'

const REDIRECT = 'http://127.0.0.1:9/callback'
const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
  redirect: 'manual' as const,
})
const pkce = () => {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

for (const backend of backends()) {
  t.test(`embedded OAuth 2.1 server on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_OAUTH_SERVER_ALLOW_DYNAMIC_REGISTRATION: 'true' })
    t.teardown(() => server.dispose())
    const auth = `${server.config.baseUrl}/auth/v1`
    const supabase = createClient(server.config.baseUrl, server.anonKey, { auth: { persistSession: false, autoRefreshToken: false } })
    await supabase.auth.signUp({ email: 'owner@example.com', password: 'owner-password' })

    const metadata = await (await fetch(`${auth}/.well-known/oauth-authorization-server`)).json()
    t.equal(metadata.issuer, auth)
    t.equal(metadata.registration_endpoint, `${auth}/oauth/clients/register`)
    const rootMetadata = await (await fetch(`${server.config.baseUrl}/.well-known/oauth-authorization-server/auth/v1`)).json()
    t.same(rootMetadata, metadata, 'the path-inserted root document is the same')

    const bad = await fetch(`${auth}/oauth/clients/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['javascript:alert(1)'] }),
    })
    t.equal(bad.status, 400)
    t.equal((await bad.json()).error_code, 'validation_failed')

    const registered = await fetch(`${auth}/oauth/clients/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT], client_name: '<b>Tool</b>', token_endpoint_auth_method: 'none' }),
    })
    t.equal(registered.status, 201)
    const client = await registered.json()
    t.equal(client.client_type, 'public')
    t.notOk(client.client_secret, 'a public client gets no secret')

    const confidential = await (await fetch(`${auth}/oauth/clients/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT] }),
    })).json()
    t.ok(confidential.client_secret, 'a confidential client gets its secret once')
    t.equal(confidential.token_endpoint_auth_method, 'client_secret_basic')

    // Authorization through the local consent page, as a browser would walk it.
    const { verifier, challenge } = pkce()
    const authorize = await fetch(
      `${auth}/oauth/authorize?${new URLSearchParams({ client_id: client.client_id, redirect_uri: REDIRECT, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256', state: 'st-1', scope: 'openid email' })}`,
      { redirect: 'manual' },
    )
    t.equal(authorize.status, 302)
    const consentUrl = new URL(authorize.headers.get('location')!)
    t.equal(consentUrl.pathname, '/auth/v1/local-consent')
    const pageResponse = await fetch(consentUrl)
    const pageHtml = await pageResponse.text()
    t.match(pageResponse.headers.get('content-security-policy'), /default-src 'none'/)
    t.notMatch(pageHtml, /<b>Tool<\/b>/, 'the client name is not rendered as markup')
    t.match(pageHtml, /&lt;b&gt;Tool&lt;\/b&gt;/, 'the client name is shown escaped')
    const authorizationId = consentUrl.searchParams.get('authorization_id')!
    const formToken = /name="form_token" value="([^"]+)"/.exec(pageHtml)![1]!

    const wrongPassword = await fetch(`${auth}/local-consent`, form({ authorization_id: authorizationId, form_token: formToken, email: 'owner@example.com', password: 'nope', action: 'approve' }))
    t.equal(wrongPassword.status, 401)
    const forged = await fetch(`${auth}/local-consent`, form({ authorization_id: authorizationId, form_token: 'forged', email: 'owner@example.com', password: 'owner-password', action: 'approve' }))
    t.equal(forged.status, 400, 'a form without the token of its page is refused')

    const approved = await fetch(`${auth}/local-consent`, form({ authorization_id: authorizationId, form_token: formToken, email: 'owner@example.com', password: 'owner-password', action: 'approve' }))
    t.equal(approved.status, 302)
    const back = new URL(approved.headers.get('location')!)
    t.equal(back.origin + back.pathname, REDIRECT)
    t.equal(back.searchParams.get('state'), 'st-1')
    const code = back.searchParams.get('code')!

    const tokenRequest = (fields: Record<string, string>) => fetch(`${auth}/oauth/token`, form(fields))
    const wrongVerifier = await tokenRequest({ grant_type: 'authorization_code', client_id: client.client_id, code, redirect_uri: REDIRECT, code_verifier: pkce().verifier })
    t.equal(wrongVerifier.status, 400)
    t.equal((await wrongVerifier.json()).error, 'invalid_grant')

    const exchanged = await tokenRequest({ grant_type: 'authorization_code', client_id: client.client_id, code, redirect_uri: REDIRECT, code_verifier: verifier })
    t.equal(exchanged.status, 200)
    t.equal(exchanged.headers.get('cache-control'), 'no-store')
    const tokens = await exchanged.json()
    t.equal(tokens.token_type, 'bearer')
    t.ok(tokens.id_token, 'openid scope brings an id token')
    const claims = decodeJwt(tokens.access_token)
    t.equal(claims.client_id, client.client_id, 'the access token names the client')
    t.equal(claims.scope, 'openid email')
    t.equal(decodeJwt(tokens.id_token).aud, client.client_id)

    const user = await supabase.auth.getUser(tokens.access_token)
    t.equal(user.data.user?.email, 'owner@example.com', 'the token is an ordinary Supabase session token')
    const userinfo = await (await fetch(`${auth}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json()
    t.equal(userinfo.email, 'owner@example.com')

    const reused = await tokenRequest({ grant_type: 'authorization_code', client_id: client.client_id, code, redirect_uri: REDIRECT, code_verifier: verifier })
    t.equal((await reused.json()).error, 'invalid_grant', 'a code works once')

    const wrongClient = await tokenRequest({ grant_type: 'refresh_token', client_id: confidential.client_id, client_secret: confidential.client_secret, refresh_token: tokens.refresh_token })
    t.equal((await wrongClient.json()).error, 'invalid_grant', 'a refresh token works only for its client')
    const badSecret = await tokenRequest({ grant_type: 'refresh_token', client_id: confidential.client_id, client_secret: 'wrong', refresh_token: tokens.refresh_token })
    t.equal((await badSecret.json()).error, 'invalid_client')
    const refreshed = await tokenRequest({ grant_type: 'refresh_token', client_id: client.client_id, refresh_token: tokens.refresh_token })
    t.equal(refreshed.status, 200)
    t.not((await refreshed.json()).refresh_token, tokens.refresh_token, 'the refresh token rotates')

    // The API a project's own consent page uses, through supabase-js.
    const signedIn = createClient(server.config.baseUrl, server.anonKey, { auth: { persistSession: false, autoRefreshToken: false } })
    await signedIn.auth.signInWithPassword({ email: 'owner@example.com', password: 'owner-password' })
    const second = pkce()
    const again = await fetch(
      `${auth}/oauth/authorize?${new URLSearchParams({ client_id: confidential.client_id, redirect_uri: REDIRECT, response_type: 'code', code_challenge: second.challenge, code_challenge_method: 'S256', state: 'st-2' })}`,
      { redirect: 'manual' },
    )
    const secondId = new URL(again.headers.get('location')!).searchParams.get('authorization_id')!
    const details = await signedIn.auth.oauth.getAuthorizationDetails(secondId)
    t.equal(details.error, null)
    t.equal((details.data as any).scope, 'email')
    const denied = await signedIn.auth.oauth.denyAuthorization(secondId, { skipBrowserRedirect: true })
    t.match((denied.data as any).redirect_url, /error=access_denied/)
    t.match((denied.data as any).redirect_url, /state=st-2/)
    const gone = await signedIn.auth.oauth.getAuthorizationDetails(secondId)
    t.equal(gone.error?.code, 'oauth_authorization_not_found')

    const errorRedirect = await fetch(
      `${auth}/oauth/authorize?${new URLSearchParams({ client_id: client.client_id, redirect_uri: REDIRECT, response_type: 'code', state: 's' })}`,
      { redirect: 'manual' },
    )
    t.match(errorRedirect.headers.get('location'), /error=invalid_request/, 'missing PKCE goes back to the client as an error')
    const unknownClient = await fetch(`${auth}/oauth/authorize?client_id=00000000-0000-4000-8000-000000000000&response_type=code`, { redirect: 'manual' })
    t.equal(unknownClient.status, 400, 'an unknown client is never redirected')

    // Finding: supabase.auth.admin.oauth.* answered 404 not_found; GoTrue's OAuth server has an admin client API.
    const admin = createClient(server.config.baseUrl, server.serviceRoleKey!, { auth: { persistSession: false, autoRefreshToken: false } }).auth.admin.oauth
    const made = await admin.createClient({ client_name: 'Managed', redirect_uris: [REDIRECT, 'https://app.example.com/cb'] })
    t.equal(made.error, null)
    t.equal(made.data?.registration_type, 'manual', 'an administrator registers as manual')
    t.ok(made.data?.client_secret, 'with its secret, this once')
    t.same(made.data?.grant_types, ['authorization_code', 'refresh_token'], 'default grant types')
    const managedId = made.data!.client_id
    const fetched = await admin.getClient(managedId)
    t.equal(fetched.data?.client_name, 'Managed')
    t.notOk((fetched.data as any)?.client_secret, 'the secret is never shown again')
    const renamed = await admin.updateClient(managedId, { logo_uri: 'https://app.example.com/logo.png' })
    t.equal(renamed.data?.logo_uri, 'https://app.example.com/logo.png')
    t.equal(renamed.data?.client_name, 'Managed', 'a partial update keeps the rest')
    t.equal((await admin.updateClient(managedId, {})).error?.message, 'No fields provided for update')
    t.match((await admin.createClient({ client_name: 'x', redirect_uris: [] })).error?.message, /redirect_uris/)
    const listed = await admin.listClients()
    t.ok(listed.data.clients.some((c: any) => c.client_id === managedId), 'listed')
    const regenerated = await admin.regenerateClientSecret(managedId)
    t.ok(regenerated.data?.client_secret)
    t.not(regenerated.data?.client_secret, made.data?.client_secret)
    const oldSecret = await tokenRequest({ grant_type: 'refresh_token', client_id: managedId, client_secret: made.data!.client_secret!, refresh_token: 'x' })
    t.equal((await oldSecret.json()).error, 'invalid_client', 'the old secret stops working')
    t.equal((await admin.regenerateClientSecret(client.client_id)).error?.message, 'Cannot regenerate secret for public client')
    t.equal((await admin.deleteClient(managedId)).error, null)
    const deleted = await admin.getClient(managedId)
    t.equal(deleted.error?.status, 404)
    t.equal(deleted.error?.code, 'oauth_client_not_found')
    t.equal((await admin.getClient('not-a-uuid')).error?.code, 'validation_failed')
    const asAnon = await createClient(server.config.baseUrl, server.anonKey, { auth: { persistSession: false, autoRefreshToken: false } }).auth.admin.oauth.listClients()
    t.equal(asAnon.error?.status, 403, 'only the service-role key manages clients')
    const asUser = await fetch(`${auth}/admin/oauth/clients`, { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT] }) })
    t.equal(asUser.status, 403, "a user's token cannot register a client there")
    t.test('finding 7 at the embedded OAuth server: a client that never redeemed a code is no open redirect', async (t) => {
      const fresh = await (await fetch(`${auth}/oauth/clients/register`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://evil.example/l'], token_endpoint_auth_method: 'none' }),
      })).json()
      const attempts: Record<string, string>[] = [{ response_type: 'x' }, { response_type: 'code' }, { response_type: 'code', code_challenge: pkce().challenge, code_challenge_method: 'S256', scope: 'admin' }]
      for (const params of attempts) {
        const response = await fetch(`${auth}/oauth/authorize?${new URLSearchParams({ client_id: fresh.client_id, ...params })}`, { redirect: 'manual' })
        t.equal(response.status, 400, JSON.stringify(params))
        t.equal(response.headers.get('location'), null, 'no redirect')
        t.equal((await response.json()).error_code, 'validation_failed')
      }
    })

    t.test('finding 4 at the embedded OAuth server: registrations are limited per address like /register', async (t) => {
      const perHour = server.config.oauth.registrationsPerHour
      const statuses: number[] = []
      // Four registration requests above (one refused, which counts too); the rest of the
      // hour's budget, then one more.
      const before = 4
      for (let i = 0; i <= perHour - before; i++) {
        const response = await fetch(`${auth}/oauth/clients/register`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }),
        })
        statuses.push(response.status)
        if (response.status === 429) {
          t.ok(Number(response.headers.get('retry-after')) > 0, 'with Retry-After')
          t.equal((await response.json()).error_code, 'over_request_rate_limit')
          break
        }
      }
      t.equal(statuses.filter((status) => status === 201).length + before, perHour, `${perHour} registrations an hour from one address`)
      t.equal(statuses.at(-1), 429, 'the next is refused')
    })
  })

  t.test(`embedded OAuth server switched off on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_OAUTH_SERVER_ENABLED: 'false' })
    t.teardown(() => server.dispose())
    const response = await fetch(`${server.config.baseUrl}/auth/v1/.well-known/oauth-authorization-server`, { headers: { 'x-supabase-api-version': '2024-01-01' } })
    t.equal(response.status, 404)
    t.equal((await response.json()).code, 'feature_disabled')
    const register = await fetch(`${server.config.baseUrl}/auth/v1/oauth/clients/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    t.equal(register.status, 404)
    const admin = await fetch(`${server.config.baseUrl}/auth/v1/admin/oauth/clients`, { headers: { authorization: `Bearer ${server.serviceRoleKey}` } })
    t.equal(admin.status, 404, 'the admin client API is off with it')
    t.equal((await admin.json()).error_code, 'feature_disabled')
    t.equal((await fetch(`${server.config.baseUrl}/auth/v1/admin/oauth/clients`)).status, 401, 'after the key check')
  })
}
