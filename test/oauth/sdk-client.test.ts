import t from 'tap'
import { auth } from '@modelcontextprotocol/sdk/client/auth.js'
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { REDIRECT_URI, signInThroughPages, signUp, supabaseUser, TestOAuthProvider } from './helpers.ts'

for (const backend of backends()) {
  t.test(`the SDK's OAuth client against AUTH_MODE=oauth on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_MODE: 'oauth' })
    t.teardown(() => server.dispose())
    const base = server.config.baseUrl
    const userId = await signUp(server, 'ada@example.com', 'correct horse battery')
    const provider = new TestOAuthProvider({ email: 'ada@example.com', password: 'correct horse battery' })
    const serverUrl = `${base}/mcp`

    t.equal(await auth(provider, { serverUrl }), 'REDIRECT', 'without tokens the client is sent to sign in')
    t.ok(provider.information?.client_id, 'the client registered dynamically')
    t.equal(provider.lastRedirect?.origin + provider.lastRedirect!.pathname, REDIRECT_URI, 'the browser ends on the client redirect URI')
    t.equal(provider.lastRedirect?.searchParams.get('iss'), base, 'the redirect names the issuer (RFC 9207)')
    t.ok(provider.pendingCode, 'with an authorization code')
    t.equal(provider.consentShown, true, 'the first time, the user was asked to approve the client')

    t.equal(await auth(provider, { serverUrl, authorizationCode: provider.pendingCode! }), 'AUTHORIZED')
    const first = provider.stored!
    t.equal(first.token_type.toLowerCase(), 'bearer')
    t.ok(first.refresh_token, 'a refresh token is issued')
    t.equal(first.scope, 'atoms:read atoms:write', 'the client asked for the scopes the metadata lists, and got them')
    const metadata: any = await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()
    const jwks: any = await (await fetch(metadata.jwks_uri)).json()
    const { payload, protectedHeader } = await jwtVerify(first.access_token, createLocalJWKSet(jwks), { issuer: base, audience: serverUrl, typ: 'at+jwt', algorithms: ['ES256'] })
    t.ok(protectedHeader.kid, 'the access token is our own JWT, signed by a key of our jwks_uri, for /mcp')
    t.equal(payload.sub, userId)
    t.equal(payload.client_id, provider.information!.client_id)
    t.equal(payload.scope, 'atoms:read atoms:write')
    t.ok(payload.jti)
    t.ok(payload.exp! - payload.iat! <= 3600, 'it lives an hour at most')
    t.not((await supabaseUser(server, first.access_token)).status, 200, 'Supabase does not take it: it is no Supabase session token')

    const mode = await import('../../src/oauth/index.ts')
    const context = await mode.createOAuthMode({ config: server.config, db: server.db }).authenticate(first.access_token)
    t.equal(context.userId, userId, 'authenticate() of the oauth mode accepts it too')
    t.equal(context.mode, 'oauth')

    t.equal(await auth(provider, { serverUrl }), 'AUTHORIZED', 'with a refresh token the client refreshes')
    const second = provider.stored!
    t.not(second.refresh_token, first.refresh_token, 'the refresh token was rotated')
    t.not(second.access_token, first.access_token, 'a refresh gives a new access token')
    t.equal((await mode.createOAuthMode({ config: server.config, db: server.db }).authenticate(second.access_token)).userId, userId, 'the refreshed access token works')

    // The client comes back later: consent is remembered, so no consent page this time.
    provider.stored = undefined
    t.equal(await auth(provider, { serverUrl }), 'REDIRECT')
    t.equal(provider.consentShown, false, 'a remembered consent is not asked again')
    t.ok(provider.pendingCode)
    const forced = await signInThroughPages(provider.browser, `${base}/authorize?${new URLSearchParams({
      response_type: 'code', client_id: provider.information!.client_id, redirect_uri: REDIRECT_URI,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', prompt: 'consent',
    })}`, { email: 'ada@example.com', password: 'correct horse battery' })
    t.equal(forced.consentShown, true, 'unless the client asks with prompt=consent')
    t.equal(await auth(provider, { serverUrl, authorizationCode: provider.pendingCode! }), 'AUTHORIZED')
    const third = provider.stored!

    const revoke = await fetch(`${base}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: third.refresh_token!, client_id: provider.information!.client_id }),
    })
    t.equal(revoke.status, 200, 'revocation answers 200')
    const afterRevoke = await fetch(`${base}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: third.refresh_token!, client_id: provider.information!.client_id }),
    })
    t.equal(afterRevoke.status, 400)
    t.equal(((await afterRevoke.json()) as any).error, 'invalid_grant', 'a revoked refresh token is refused')
    // Our tokens carry the Supabase session's id (for row-level security), which shows which one ended.
    const sessionExists = async (token: string) =>
      (await server.db.query('select 1 from embedded_auth.sessions where id = $1', [decodeJwt(token).session_id])).rows.length === 1
    t.equal(decodeProtectedHeader(third.access_token).typ, 'at+jwt')
    t.notOk(await sessionExists(third.access_token), 'its Supabase session has ended')
    t.ok(await sessionExists(second.access_token), 'the other session of the user is untouched')
  })
}
