import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createClient } from '@supabase/supabase-js'
import { decodeJwt } from 'jose'
import { postMcp, toolsCallBody } from '../../scripts/lib/mcp-call.ts'
import { sha256 } from '../../src/crypto.ts'
import { postgresOAuthStore } from '../../src/oauth/store/postgres.ts'
import { TOKEN_KEY_FILE, tokenKey } from '../../src/oauth/token-key.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { schemaText } from '../security/helpers.ts'
import { REDIRECT_URI, sessionUser, signUp } from './helpers.ts'
import { obtainCode, register, revoke, token } from './manual-client.ts'

type Tokens = { access_token: string; refresh_token: string; scope: string }

const bearer = (accessToken: string) => ({ authorization: `Bearer ${accessToken}` })
const whoami = (server: TestServer, accessToken: string) => postMcp(server.config.baseUrl, toolsCallBody('whoami'), bearer(accessToken))

async function grant(server: TestServer, clientId: string, user: { email: string; password: string }, scope?: string): Promise<Tokens> {
  const { code, verifier } = await obtainCode(server, clientId, user, undefined, scope)
  const response = await token(server, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: clientId })
  if (response.status !== 200) throw new Error(`token: ${response.status} ${JSON.stringify(response.body)}`)
  return response.body
}

const refresh = (server: TestServer, clientId: string, refreshToken: string) =>
  token(server, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId })


/** Moves every rotation out of the 10-second replay window, without waiting for it. */
const pastReplayWindow = (server: TestServer) =>
  server.db.query("update atoms_oauth.refresh_tokens set rotated_at = now() - interval '1 minute' where rotated_at is not null")

for (const backend of backends()) {
  t.test(`refresh tokens of our own with OAUTH_ACCESS_TOKENS=bound on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_MODE: 'oauth', OAUTH_REGISTRATIONS_PER_HOUR: '0' })
    t.teardown(() => server.dispose())
    const base = server.config.baseUrl
    let users = 0
    /** A user of its own per test, so that ending one's sessions leaves the others alone. */
    const newUser = async () => {
      const user = { email: `refresh-${++users}@example.com`, password: 'a long enough secret' }
      await signUp(server, user.email, user.password)
      return user
    }
    const clientA: string = (await register(server)).body.client_id
    const clientB: string = (await register(server)).body.client_id

    t.test('the client holds a random token of ours, which Supabase refuses and the database does not hold', async (t) => {
      const user = await newUser()
      const tokens = await grant(server, clientA, user)
      t.match(tokens.refresh_token, /^[\w-]{43}$/, '256 random bits, base64url')
      const atSupabase = await fetch(`${base}/auth/v1/token?grant_type=refresh_token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', apikey: server.anonKey },
        body: JSON.stringify({ refresh_token: tokens.refresh_token }),
      })
      t.ok(atSupabase.status >= 400 && atSupabase.status < 500, `refused at /auth/v1/token (${atSupabase.status}): not a Supabase refresh token`)

      const stored = await schemaText(server, 'atoms_oauth')
      t.notOk(stored.includes(tokens.refresh_token), 'the token is not stored')
      const { rows } = await server.db.query<{ token_hash: string; sealed_session: string | null; grant_id: string | null }>(
        'select token_hash, sealed_session, grant_id from atoms_oauth.refresh_tokens',
      )
      t.ok(rows.length > 0 && rows.every((row) => row.token_hash !== tokens.refresh_token), 'rows are found by an HMAC of it')
      t.ok(rows.every((row) => row.sealed_session && row.grant_id), 'each keeps its Supabase session sealed, and its grant')

      // Opened with the token key (kept outside the database), the row holds the Supabase session.
      const key = Buffer.from(readFileSync(join(server.config.dataDir, TOKEN_KEY_FILE), 'utf8').trim(), 'base64url')
      const session = (await postgresOAuthStore(server.db, key).refreshTokens.find(tokens.refresh_token))?.session
      t.ok(session, 'the Supabase session is kept beside our token')
      t.not(session!.refreshToken, tokens.refresh_token)
      t.notOk(stored.includes(session!.refreshToken) || stored.includes(session!.accessToken), 'sealed: its tokens are not in the clear')
      const live = await server.db.query('select 1 from embedded_auth.refresh_tokens where token_hash = $1 and revoked = false', [sha256(session!.refreshToken)])
      t.equal(live.rows.length, 1, 'and it is the live Supabase refresh token')
    })

    t.test('a refresh rotates our token and the Supabase session; a retry within 10 s gets the same answer', async (t) => {
      const user = await newUser()
      const first = await grant(server, clientA, user)
      const second = await refresh(server, clientA, first.refresh_token)
      t.equal(second.status, 200)
      t.not(second.body.refresh_token, first.refresh_token, 'rotated')
      t.match(second.body.refresh_token, /^[\w-]{43}$/)
      t.equal(decodeJwt(second.body.access_token).session_id, decodeJwt(first.access_token).session_id, 'the same Supabase session')
      t.equal((await whoami(server, second.body.access_token)).status, 200, 'the new access token works')
      const retried = await refresh(server, clientA, first.refresh_token)
      t.equal(retried.status, 200, 'a retry within the window')
      t.same([retried.body.access_token, retried.body.refresh_token], [second.body.access_token, second.body.refresh_token], 'the same answer')
      const third = await refresh(server, clientA, second.body.refresh_token)
      t.equal(third.status, 200, 'the successor rotates in turn')
    })

    t.test('a refresh token of client A presented by client B fails, and A keeps it', async (t) => {
      const user = await newUser()
      const tokens = await grant(server, clientA, user)
      const stolen = await refresh(server, clientB, tokens.refresh_token)
      t.equal(stolen.status, 400)
      t.equal(stolen.body.error, 'invalid_grant')
      t.equal(await revoke(server, clientB, tokens.refresh_token), 200, 'revocation by B answers 200 (RFC 7009) ...')
      const own = await refresh(server, clientA, tokens.refresh_token)
      t.equal(own.status, 200, '... and leaves the grant of A alone')
      t.equal((await sessionUser(server, own.body.access_token)).status, 200, 'its Supabase session too')
    })

    t.test('a rotated token of client A presented by client B within the replay window gets no answer', async (t) => {
      const user = await newUser()
      const first = await grant(server, clientA, user)
      const second = await refresh(server, clientA, first.refresh_token)
      const replayedByB = await refresh(server, clientB, first.refresh_token)
      t.equal(replayedByB.body.error, 'invalid_grant', 'the kept answer goes to its own client only')
      t.notOk(JSON.stringify(replayedByB.body).includes(second.body.refresh_token), 'and nothing of it leaks')
      t.equal((await refresh(server, clientA, second.body.refresh_token)).status, 200, "A's grant lives on")
    })

    t.test('a refresh token is no access token: refused at /mcp', async (t) => {
      const user = await newUser()
      const tokens = await grant(server, clientA, user)
      t.equal((await whoami(server, tokens.refresh_token)).status, 401)
    })

    t.test('an authorization code used twice ends the refresh tokens it gave out, rotated ones included', async (t) => {
      const user = await newUser()
      const { code, verifier } = await obtainCode(server, clientA, user)
      const form = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: clientA }
      const issued = (await token(server, form)).body
      const rotated = (await refresh(server, clientA, issued.refresh_token)).body
      await server.db.query("update atoms_oauth.authorization_codes set used_at = now() - interval '1 minute' where used_at is not null")
      t.equal((await token(server, form)).body.error, 'invalid_grant', 'the second use of the code')
      t.equal((await refresh(server, clientA, rotated.refresh_token)).body.error, 'invalid_grant', 'the newest refresh token of that grant is ended')
    })

    t.test('a Supabase refresh token, or a made-up one, is no refresh token here', async (t) => {
      const user = await newUser()
      const supabase = createClient(base, server.anonKey, { auth: { persistSession: false, autoRefreshToken: false } })
      const { data } = await supabase.auth.signInWithPassword(user)
      for (const [what, value] of [['Supabase', data.session!.refresh_token], ['made-up', 'A'.repeat(43)]] as const) {
        const answer = await refresh(server, clientA, value)
        t.equal(answer.body.error, 'invalid_grant', what)
      }
    })

    t.test('an old refresh token used after the window revokes the whole grant and ends its Supabase session', async (t) => {
      const user = await newUser()
      const first = await grant(server, clientA, user)
      const second = (await refresh(server, clientA, first.refresh_token)).body
      await pastReplayWindow(server)
      const reuse = await refresh(server, clientA, first.refresh_token)
      t.equal(reuse.body.error, 'invalid_grant', 'the reused token')
      const current = await refresh(server, clientA, second.refresh_token)
      t.equal(current.body.error, 'invalid_grant', 'and the newest token of the grant, which whoever leaked it may hold')
      t.equal((await sessionUser(server, second.access_token)).status, 403, 'the Supabase session is ended')
      t.equal((await whoami(server, second.access_token)).status, 401, 'and its access token refused at /mcp')
    })

    t.test('revoking our refresh token ends the grant and signs its Supabase session out', async (t) => {
      const user = await newUser()
      const tokens = await grant(server, clientA, user)
      t.equal((await sessionUser(server, tokens.access_token)).status, 200)
      t.equal(await revoke(server, clientA, tokens.refresh_token), 200)
      t.equal((await sessionUser(server, tokens.access_token)).status, 403, 'the Supabase session is ended')
      t.equal((await refresh(server, clientA, tokens.refresh_token)).body.error, 'invalid_grant', 'the refresh token is dead')
      t.equal((await whoami(server, tokens.access_token)).status, 401, 'and its access token')
      const { rows } = await server.db.query('select 1 from atoms_oauth.refresh_tokens where revoked_at is not null and sealed_session is not null')
      t.equal(rows.length, 0, 'a revoked row keeps no session')
    })

    t.test('revoking a token rotated a moment ago ends the session its successor carries on', async (t) => {
      const user = await newUser()
      const first = await grant(server, clientA, user)
      const second = (await refresh(server, clientA, first.refresh_token)).body
      t.equal(await revoke(server, clientA, first.refresh_token), 200)
      t.equal((await sessionUser(server, second.access_token)).status, 403, 'the Supabase session is ended')
      t.equal((await refresh(server, clientA, second.refresh_token)).body.error, 'invalid_grant', 'the successor is revoked with it')
    })

    t.test('revoking a token rotated long ago ends the grant and its Supabase session too', async (t) => {
      const user = await newUser()
      const first = await grant(server, clientA, user)
      const second = (await refresh(server, clientA, first.refresh_token)).body
      await pastReplayWindow(server)
      t.equal(await revoke(server, clientA, first.refresh_token), 200)
      t.equal((await sessionUser(server, second.access_token)).status, 403, 'the Supabase session is ended')
      t.equal((await refresh(server, clientA, second.refresh_token)).body.error, 'invalid_grant', 'and the newest refresh token')
    })

    t.test('a user removed at Supabase fails at the next refresh with invalid_grant', async (t) => {
      const user = await newUser()
      const tokens = await grant(server, clientA, user)
      const admin = createClient(base, server.serviceRoleKey!, { auth: { persistSession: false, autoRefreshToken: false } })
      const { error } = await admin.auth.admin.deleteUser(decodeJwt(tokens.access_token).sub!)
      t.equal(error, null, 'deleted through the admin API')
      const answer = await refresh(server, clientA, tokens.refresh_token)
      t.equal(answer.status, 400)
      t.equal(answer.body.error, 'invalid_grant')
    })

    t.test('SEP-2207: a refresh token only for a client that registered the refresh_token grant; offline_access stays off the resource', async (t) => {
      const user = await newUser()
      const withoutGrant: string = (await register(server, { grant_types: ['authorization_code'] })).body.client_id
      const asked = await grant(server, withoutGrant, user, 'atoms:read offline_access')
      t.ok(asked.access_token, 'the grant itself goes through')
      t.equal(asked.refresh_token, undefined, 'offline_access alone does not earn a refresh token')
      t.equal((await refresh(server, withoutGrant, 'anything')).body.error, 'unauthorized_client', 'nor can such a client use the refresh grant')

      const offline = await grant(server, clientA, user, 'atoms:read offline_access')
      t.match(offline.refresh_token, /^[\w-]{43}$/, 'a client that registered the grant and asks offline_access gets one')
      t.equal(offline.scope, 'atoms:read offline_access', 'and the scope it was granted')
      const write = await postMcp(base, toolsCallBody('entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'X', slug: 'x' } }), bearer(offline.access_token))
      t.equal(write.status, 403)
      t.match(write.headers.get('www-authenticate'), 'scope="atoms:read atoms:write"', 'the step-up challenge names the resource scopes ...')
      t.notMatch(write.headers.get('www-authenticate'), 'offline_access', '... and never offline_access')
      const renewed = await refresh(server, clientA, offline.refresh_token)
      t.equal(renewed.body.scope, 'atoms:read offline_access', 'a refresh keeps the granted scope')
      const prm: any = await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp`)).json()
      t.notOk(prm.scopes_supported.includes('offline_access'), 'the protected resource metadata does not list it')
      const as: any = await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()
      t.ok(as.scopes_supported.includes('offline_access'), 'the authorization server metadata does, for clients that ask for it')
    })

    t.test('a refresh token stored before sessions were kept (the Supabase one) still refreshes, into one of ours', async (t) => {
      const user = await newUser()
      const supabase = createClient(base, server.anonKey, { auth: { persistSession: false, autoRefreshToken: false } })
      const { data } = await supabase.auth.signInWithPassword(user)
      const legacy = data.session!.refresh_token
      const key = tokenKey(Buffer.from(readFileSync(join(server.config.dataDir, TOKEN_KEY_FILE), 'utf8').trim(), 'base64url'))
      await server.db.query(
        'insert into atoms_oauth.refresh_tokens (token_hash, client_id, user_id, scope, resource) values ($1, $2, $3, $4, $5)',
        [key.lookup(legacy), clientA, data.user!.id, 'atoms:read atoms:write', `${base}/mcp`],
      )
      const next = await refresh(server, clientA, legacy)
      t.equal(next.status, 200)
      t.match(next.body.refresh_token, /^[\w-]{43}$/, 'the successor is ours')
      t.equal((await refresh(server, clientA, next.body.refresh_token)).status, 200, 'and refreshes in turn')
    })

    t.test('a user signed out everywhere at Supabase fails at the next refresh with invalid_grant', async (t) => {
      const user = await newUser()
      const tokens = await grant(server, clientA, user)
      const supabase = createClient(base, server.anonKey, { auth: { persistSession: false, autoRefreshToken: false } })
      await supabase.auth.signInWithPassword(user)
      const { error } = await supabase.auth.signOut({ scope: 'global' })
      t.equal(error, null)
      t.equal((await refresh(server, clientA, tokens.refresh_token)).body.error, 'invalid_grant')
    })
  })
}

t.test('OAUTH_ACCESS_TOKENS=supabase still hands the client the Supabase refresh token', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth', OAUTH_ACCESS_TOKENS: 'supabase', OAUTH_REGISTRATIONS_PER_HOUR: '0' })
  t.teardown(() => server.dispose())
  const user = { email: 'supabase-mode@example.com', password: 'a long enough secret' }
  await signUp(server, user.email, user.password)
  const clientId: string = (await register(server)).body.client_id
  const tokens = await grant(server, clientId, user)
  const { rows } = await server.db.query('select 1 from embedded_auth.refresh_tokens where token_hash = $1 and revoked = false', [sha256(tokens.refresh_token)])
  t.equal(rows.length, 1, "the client's refresh token is the Supabase session's")
  const next = await refresh(server, clientId, tokens.refresh_token)
  t.equal(next.status, 200, 'and refreshes as before')
  t.equal((await refresh(server, clientId, tokens.refresh_token)).body.refresh_token, next.body.refresh_token, 'with the replay window')
  t.equal(await revoke(server, clientId, next.body.refresh_token), 200)
  t.equal((await sessionUser(server, next.body.access_token)).status, 403, 'revocation ends the session')
})
