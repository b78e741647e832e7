import t from 'tap'
import { obtainCode, pkce, revoke, token } from '../oauth/manual-client.ts'
import { backends } from '../helpers/backends.ts'
import { postMcp } from '../helpers/mcp.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { REDIRECT_URI } from '../oauth/helpers.ts'
import { connectedClient, refresh, USER } from './helpers.ts'

// Finding 6: /revoke and reuse detection ended the Supabase session but never told the mode's
// token checks, so an access token this instance had checked (locally, against the JWKS) kept
// working at /mcp until it expired.

const PING = { jsonrpc: '2.0', id: 1, method: 'ping' }
const mcpStatus = async (server: TestServer, accessToken: string) => (await postMcp(server, PING, { authorization: `Bearer ${accessToken}` })).status


t.test('finding 6: a grant ended by this server stops working at /mcp at once', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth', TOKEN_VALIDATION: 'local' })
  t.teardown(() => server.dispose())
  const { clientId, tokens } = await connectedClient(server)

  t.test('revoking the refresh token ends the access tokens given out before', async (t) => {
    const { code, verifier } = await obtainCode(server, clientId, USER)
    const issued = (await token(server, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: clientId })).body
    t.equal(await mcpStatus(server, issued.access_token), 200, 'works, and is now cached as valid')
    t.equal(await revoke(server, clientId, issued.refresh_token), 200)
    t.equal(await mcpStatus(server, issued.access_token), 401)
  })

  t.test('revoking the access token itself', async (t) => {
    t.equal(await mcpStatus(server, tokens.access_token), 200)
    t.equal(await revoke(server, clientId, tokens.access_token), 200)
    t.equal(await mcpStatus(server, tokens.access_token), 401)
  })

  t.test('a refresh token used again after its rotation', async (t) => {
    const { code, verifier } = await obtainCode(server, clientId, USER)
    const first = (await token(server, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: clientId })).body
    const second = await refresh(server, clientId, first.refresh_token)
    t.equal(await mcpStatus(server, second.access_token), 200)
    // Past the replay window, without waiting for it.
    await server.db.query("update atoms_oauth.refresh_tokens set rotated_at = now() - interval '1 minute' where rotated_at is not null")
    const reuse = await token(server, { grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: clientId })
    t.equal(reuse.body.error, 'invalid_grant')
    t.equal(await mcpStatus(server, second.access_token), 401, 'the session the leaked token belongs to is ended here too')
  })

  t.test('an authorization code used twice', async (t) => {
    const { code, verifier } = await obtainCode(server, clientId, USER)
    const grant = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: clientId }
    const issued = (await token(server, { ...grant, code_verifier: verifier })).body
    t.equal(await mcpStatus(server, issued.access_token), 200)
    t.equal((await token(server, { ...grant, code_verifier: pkce().verifier })).body.error, 'invalid_grant')
    t.equal(await mcpStatus(server, issued.access_token), 401)
  })
})
