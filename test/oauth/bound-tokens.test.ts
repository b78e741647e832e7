import t from 'tap'
import { randomUUID } from 'node:crypto'
import { createClient } from '@supabase/supabase-js'
import { decodeJwt, SignJWT } from 'jose'
import { Browser } from '../../scripts/lib/browser.ts'
import { postMcp, toolsCallBody } from '../../scripts/lib/mcp-call.ts'
import { keyRing } from '../../src/oauth/signing-keys.ts'
import { oauthSecrets } from '../../src/oauth/store/postgres.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { REDIRECT_URI, signInThroughPages, signUp, supabaseUser } from './helpers.ts'
import { authorizeUrl, pkce, register, token } from './manual-client.ts'

const INTROSPECTION_SECRET = 'resource-server-secret-0123456789abcdef'

const USER = { email: 'barbara@example.com', password: 'a long enough secret' }
const bearer = (accessToken: string) => ({ authorization: `Bearer ${accessToken}` })

/** A grant for `clientId` through the pages, redeemed at /token: the token answer. */
async function grant(server: TestServer, clientId: string, scope?: string, form: Record<string, string> = {}) {
  const base = server.config.baseUrl
  const { verifier, challenge } = pkce()
  const url = authorizeUrl(server, {
    response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256',
    state: 's', resource: `${base}/mcp`, scope,
  })
  const outcome = await signInThroughPages(new Browser(), url, USER)
  const code = outcome.location.searchParams.get('code')
  if (!code) throw new Error(`no code: ${outcome.location}`)
  const response = await token(server, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: clientId, ...form })
  if (response.status !== 200) throw new Error(`token: ${response.status} ${JSON.stringify(response.body)}`)
  return response.body as { access_token: string; refresh_token: string; scope: string; expires_in: number }
}

const rest = (server: TestServer, accessToken: string, tool: string, args: Record<string, unknown>) =>
  fetch(`${server.config.baseUrl}/api/mcp/tools/call`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(accessToken) },
    body: JSON.stringify({ tool, arguments: args }),
  })

const CREATE_ORG = { operation: 'create', entity_type: 'organization', data: { name: 'Bound', slug: 'bound' } }
const LIST_ORGS = { operation: 'list', entity_type: 'organization' }

for (const backend of backends()) {
  t.test(`bound access tokens in AUTH_MODE=oauth on ${backend.name}`, async (t) => {
    // Supabase access tokens of the embedded auth live 10 minutes here: ours may not outlive them.
    const server = await startTestServer(backend, { AUTH_MODE: 'oauth', OAUTH_REGISTRATIONS_PER_HOUR: '0', AUTH_JWT_EXPIRY: '600', OAUTH_INTROSPECTION_SECRET: INTROSPECTION_SECRET })
    t.teardown(() => server.dispose())
    const base = server.config.baseUrl
    const resource = `${base}/mcp`
    const userId = await signUp(server, USER.email, USER.password)
    const client = (await register(server)).body

    t.test('a grant without a scope is read and write, and the tools see the user as with Supabase tokens', async (t) => {
      const tokens = await grant(server, client.client_id)
      t.equal(tokens.scope, 'atoms:read atoms:write openid email profile', 'the default grant: everything the client registered')
      t.ok(tokens.expires_in <= 600 && tokens.expires_in > 500, `never past the Supabase access token's expiry (${tokens.expires_in} s)`)
      const me = await postMcp(base, toolsCallBody('whoami'), bearer(tokens.access_token))
      const who = JSON.parse(me.json.result.content[0].text)
      t.same([who.id, who.email, who.role, who.mode], [userId, USER.email, 'authenticated', 'oauth'])
      t.ok(who.session_id, 'the Supabase session id is there for policies, as with Supabase tokens')
      const created = await postMcp(base, toolsCallBody('entity_tool', CREATE_ORG), bearer(tokens.access_token))
      t.equal(created.status, 200)
      t.notOk(created.json.result.isError, 'a write goes through')
      const listed = await postMcp(base, toolsCallBody('entity_tool', LIST_ORGS), bearer(tokens.access_token))
      t.same(JSON.parse(listed.json.result.content[0].text).items.map((o: any) => o.slug), ['bound'], 'row-level security sees the caller by our token')
    })

    t.test('a read-only grant lists and reads; a write gets 403 insufficient_scope naming every scope it needs', async (t) => {
      const tokens = await grant(server, client.client_id, 'atoms:read')
      t.equal(tokens.scope, 'atoms:read')
      t.equal(decodeJwt(tokens.access_token).scope, 'atoms:read')
      const list = await postMcp(base, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, bearer(tokens.access_token))
      t.equal(list.json.result.tools.length, 5, 'tools/list')
      const listed = await postMcp(base, toolsCallBody('entity_tool', LIST_ORGS), bearer(tokens.access_token))
      t.equal(listed.status, 200)
      t.same(JSON.parse(listed.json.result.content[0].text).items.map((o: any) => o.slug), ['bound'], 'list')
      const who = await postMcp(base, toolsCallBody('whoami'), bearer(tokens.access_token))
      t.same(JSON.parse(who.json.result.content[0].text).scopes, ['atoms:read'], 'whoami shows the granted scope')

      const write = await postMcp(base, toolsCallBody('entity_tool', { ...CREATE_ORG, data: { name: 'No', slug: 'no' } }), bearer(tokens.access_token))
      t.equal(write.status, 403)
      const challenge = write.headers.get('www-authenticate') ?? ''
      t.match(challenge, /^Bearer /)
      t.match(challenge, 'error="insufficient_scope"')
      t.match(challenge, 'scope="atoms:read atoms:write"', 'the challenge names every scope the call needs')
      t.match(challenge, `resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`)
      t.equal(write.json.error.code, -32001, 'a JSON-RPC error body')

      const link = await postMcp(base, toolsCallBody('relationship_tool', { operation: 'link' }), bearer(tokens.access_token))
      t.equal(link.status, 403, 'link is a write')
      const batch = await postMcp(base, [JSON.parse(toolsCallBody('whoami', {}, 1)), JSON.parse(toolsCallBody('entity_tool', { ...CREATE_ORG, data: { name: 'B', slug: 'batched' } }, 2))], bearer(tokens.access_token))
      t.equal(batch.status, 403, 'a batch with one write is refused as a whole')

      const restWrite = await rest(server, tokens.access_token, 'entity_tool', { ...CREATE_ORG, data: { name: 'R', slug: 'rest' } })
      t.equal(restWrite.status, 403, 'REST: the same status')
      t.match(restWrite.headers.get('www-authenticate'), 'error="insufficient_scope"')
      t.equal(((await restWrite.json()) as any).error.code, 'insufficient_scope')
      t.equal((await rest(server, tokens.access_token, 'entity_tool', LIST_ORGS)).status, 200, 'REST reads go through')

      const after = await postMcp(base, toolsCallBody('entity_tool', LIST_ORGS), bearer(tokens.access_token))
      t.same(JSON.parse(after.json.result.content[0].text).items.map((o: any) => o.slug), ['bound'], 'nothing refused was written')

      const widened = await token(server, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.client_id, scope: 'atoms:read atoms:write' })
      t.equal(widened.body.error, 'invalid_scope', 'a refresh cannot widen a read-only grant')
      const refreshed = await token(server, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.client_id })
      t.equal(refreshed.status, 200)
      t.equal(decodeJwt(refreshed.body.access_token).scope, 'atoms:read', 'a refresh gives a new bound token with the same scope')
    })

    t.test('only our tokens for /mcp pass: a Supabase session token, another audience, issuer or type do not', async (t) => {
      const supabase = createClient(base, server.anonKey, { auth: { persistSession: false, autoRefreshToken: false } })
      const { data } = await supabase.auth.signInWithPassword(USER)
      const sessionToken = data.session!.access_token
      t.equal((await supabaseUser(server, sessionToken)).status, 200, 'a valid Supabase session token')
      const refused = await postMcp(base, toolsCallBody('whoami'), bearer(sessionToken))
      t.equal(refused.status, 401, 'refused at /mcp: no OAuth grant was made for it')
      t.match(refused.headers.get('www-authenticate'), 'error="invalid_token"')
      t.match(refused.headers.get('www-authenticate'), `resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`)
      t.equal((await rest(server, sessionToken, 'whoami', {})).status, 401, 'and on REST')

      // Tokens signed with our own current key, each wrong in one way only.
      const key = await keyRing({ secret: oauthSecrets(server.db) }).signingKey()
      const now = Math.floor(Date.now() / 1000)
      const claims = { iss: base, sub: userId, aud: resource, client_id: client.client_id, scope: 'atoms:read atoms:write', jti: randomUUID(), iat: now, exp: now + 600, role: 'authenticated', email: USER.email }
      const mint = (changes: Record<string, unknown>, typ = 'at+jwt') =>
        new SignJWT({ ...claims, ...changes }).setProtectedHeader({ alg: 'ES256', typ, kid: key.kid }).sign(key.privateKey)
      const statusOf = async (accessToken: string) => (await postMcp(base, toolsCallBody('whoami'), bearer(accessToken))).status
      t.equal(await statusOf(await mint({})), 200, 'the control: a well-formed token of ours')
      t.equal(await statusOf(await mint({ aud: 'https://other.example/mcp' })), 401, 'another resource')
      t.equal(await statusOf(await mint({ aud: 'authenticated' })), 401, "Supabase's audience")
      t.equal(await statusOf(await mint({ iss: `${base}/auth/v1` })), 401, 'another issuer')
      t.equal(await statusOf(await mint({}, 'JWT')), 401, 'not typ at+jwt')
      t.equal(await statusOf(await mint({ exp: now - 120 })), 401, 'expired')
      t.equal(await statusOf(await mint({ client_id: undefined })), 401, 'no client_id')
    })

    t.test('introspection shows audience, scope, client, subject and expiry of our tokens', async (t) => {
      const confidential = (await register(server, { token_endpoint_auth_method: 'client_secret_post' })).body
      const tokens = await grant(server, confidential.client_id, 'atoms:read', { client_secret: confidential.client_secret })
      const introspect = async (tokenValue: string) => {
        const response = await fetch(`${base}/introspect`, {
          method: 'POST',
          // Introspection is the resource servers' (OAUTH_INTROSPECTION_SECRET), not a client's.
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${INTROSPECTION_SECRET}` },
          body: new URLSearchParams({ token: tokenValue }),
        })
        return (await response.json()) as any
      }
      const seen = await introspect(tokens.access_token)
      const { exp } = decodeJwt(tokens.access_token)
      t.same([seen.active, seen.aud, seen.scope, seen.client_id, seen.sub, seen.exp, seen.iss], [true, resource, 'atoms:read', confidential.client_id, userId, exp, base])
      const supabase = createClient(base, server.anonKey, { auth: { persistSession: false, autoRefreshToken: false } })
      const { data } = await supabase.auth.signInWithPassword(USER)
      t.same(await introspect(data.session!.access_token), { active: false }, 'a Supabase session token is none of ours')
    })

    t.test('the metadata: jwks_uri, resource scopes without offline_access, and the 401 challenge', async (t) => {
      const as: any = await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()
      t.equal(as.jwks_uri, `${base}/.well-known/jwks.json`)
      t.equal(as.authorization_response_iss_parameter_supported, true)
      t.same(as.scopes_supported, ['atoms:read', 'atoms:write', 'openid', 'email', 'profile', 'offline_access'])
      const jwks: any = await (await fetch(as.jwks_uri)).json()
      t.equal(jwks.keys.length, 3, 'the keys of the previous, current and next rotation period')
      t.ok(jwks.keys.every((key: any) => key.kty === 'EC' && key.alg === 'ES256' && key.kid && key.d === undefined), 'public keys only')
      const prm: any = await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp`)).json()
      t.same(prm.scopes_supported, ['atoms:read', 'atoms:write'])
      const anonymous = await postMcp(base, toolsCallBody('whoami'))
      t.equal(anonymous.status, 401)
      t.match(anonymous.headers.get('www-authenticate'), 'scope="atoms:read atoms:write"')
    })
  })
}

t.test('OAUTH_ACCESS_TOKENS=supabase hands out the Supabase session token, as before', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth', OAUTH_ACCESS_TOKENS: 'supabase', OAUTH_REGISTRATIONS_PER_HOUR: '0' })
  t.teardown(() => server.dispose())
  const userId = await signUp(server, USER.email, USER.password)
  const client = (await register(server)).body
  const tokens = await grant(server, client.client_id, 'atoms:read')
  t.equal((await supabaseUser(server, tokens.access_token)).id, userId, 'the access token is a Supabase JWT')
  const created = await postMcp(server.config.baseUrl, toolsCallBody('entity_tool', CREATE_ORG), bearer(tokens.access_token))
  t.equal(created.status, 200, 'it carries no scope, so the grant is not enforced (docs/oauth.md says so)')
  const as: any = await (await fetch(`${server.config.baseUrl}/.well-known/oauth-authorization-server`)).json()
  t.equal(as.jwks_uri, undefined, 'no keys of ours to publish')
})

t.test('a Supabase session token is accepted in bearer and jwt modes', async (t) => {
  for (const mode of ['bearer', 'jwt']) {
    const server = await startTestServer(backends()[0]!, { AUTH_MODE: mode })
    t.teardown(() => server.dispose())
    const userId = await signUp(server, USER.email, USER.password)
    const supabase = createClient(server.config.baseUrl, server.anonKey, { auth: { persistSession: false, autoRefreshToken: false } })
    const { data } = await supabase.auth.signInWithPassword(USER)
    const me = await postMcp(server.config.baseUrl, toolsCallBody('whoami'), bearer(data.session!.access_token))
    t.equal(me.status, 200, mode)
    t.equal(JSON.parse(me.json.result.content[0].text).id, userId, `${mode}: the session's user`)
    const write = await postMcp(server.config.baseUrl, toolsCallBody('entity_tool', CREATE_ORG), bearer(data.session!.access_token))
    t.notOk(write.json.result.isError, `${mode}: no scopes to hold it to`)
  }
})
