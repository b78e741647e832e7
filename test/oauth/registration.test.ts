import t from 'tap'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { REDIRECT_URI, signUp } from './helpers.ts'
import { obtainCode, token } from './manual-client.ts'

for (const backend of backends()) {
  t.test(`dynamic client registration on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_MODE: 'oauth', OAUTH_REGISTRATIONS_PER_HOUR: '40' })
    t.teardown(() => server.dispose())
    const base = server.config.baseUrl
    const post = async (body: unknown, contentType = 'application/json') => {
      const response = await fetch(`${base}/register`, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) })
      return { status: response.status, body: (await response.json()) as any }
    }

    const publicClient = await post({ client_name: 'Claude Code', redirect_uris: ['http://localhost/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] })
    t.equal(publicClient.status, 201)
    t.ok(publicClient.body.client_id)
    t.notOk(publicClient.body.client_secret, 'a public client gets no secret')
    t.equal(publicClient.body.client_name, 'Claude Code')
    t.same(publicClient.body.redirect_uris, ['http://localhost/callback'])

    const confidential = await post({ client_name: 'Service', redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'] })
    t.equal(confidential.status, 201)
    t.equal(confidential.body.token_endpoint_auth_method, 'client_secret_basic', 'the RFC 7591 default method')
    t.ok(confidential.body.client_secret, 'the secret is returned once')
    t.equal(confidential.body.client_secret_expires_at, 0)
    const stored = await server.db.query('select secret_hash from atoms_oauth.clients where client_id = $1', [confidential.body.client_id])
    t.not(stored.rows[0]!.secret_hash, confidential.body.client_secret, 'only its hash is stored')

    for (const uri of ['cursor://anysphere.cursor-retrieval/oauth/callback', 'com.example.app:/callback', 'https://claude.ai/api/mcp/auth_callback', 'http://127.0.0.1/cb', 'http://[::1]:3000/cb']) {
      t.equal((await post({ redirect_uris: [uri], token_endpoint_auth_method: 'none' })).status, 201, `accepts ${uri}`)
    }
    const refused: Array<[string, unknown]> = [
      ['http on a public host', 'http://example.com/callback'],
      ['userinfo', 'http://localhost:@evil.com/callback'],
      ['userinfo with password', 'https://user:pass@example.com/cb'],
      ['a fragment', 'https://example.com/cb#frag'],
      ['javascript:', 'javascript:alert(1)'],
      ['data:', 'data:text/html,hi'],
      ['vbscript:', 'vbscript:msgbox'],
      ['a relative URI', '/callback'],
      ['dot segments', 'https://example.com/a/../cb'],
      ['a non-string', 42],
    ]
    for (const [why, uri] of refused) {
      const response = await post({ redirect_uris: [uri], token_endpoint_auth_method: 'none' })
      t.equal(response.status, 400, why)
      t.equal(response.body.error, 'invalid_redirect_uri', why)
    }
    t.equal((await post({ token_endpoint_auth_method: 'none' })).body.error, 'invalid_redirect_uri', 'redirect_uris missing')

    // SEP-837: application_type is stored and returned; most MCP clients send none with a loopback redirect.
    t.equal(publicClient.body.application_type, 'web', 'left out, it is the RFC 7591 default, and a loopback redirect still works')
    const native = await post({ application_type: 'native', redirect_uris: ['http://127.0.0.1/cb', 'com.example.app:/callback'], token_endpoint_auth_method: 'none' })
    t.equal(native.status, 201)
    t.equal(native.body.application_type, 'native', 'native is returned')
    const storedNative = await server.db.query('select metadata from atoms_oauth.clients where client_id = $1', [native.body.client_id])
    t.equal(storedNative.rows[0]!.metadata.application_type, 'native', 'and stored')
    t.equal((await post({ application_type: 'desktop', redirect_uris: [REDIRECT_URI] })).body.error, 'invalid_client_metadata', 'no other application_type')
    t.equal((await post({ application_type: 'native', redirect_uris: ['http://example.com/cb'] })).body.error, 'invalid_redirect_uri', 'native: plain http only on loopback')

    // Scopes: a registration naming no resource scope (as before they existed) may ask for both.
    t.equal(publicClient.body.scope, 'atoms:read atoms:write openid email profile', 'the default: every scope')
    t.equal((await post({ redirect_uris: [REDIRECT_URI], scope: 'openid email' })).body.scope, 'atoms:read atoms:write openid email')
    t.equal((await post({ redirect_uris: [REDIRECT_URI], scope: 'atoms:read' })).body.scope, 'atoms:read', 'a read-only client')
    t.equal((await post({ redirect_uris: Array.from({ length: 11 }, (_, i) => `https://e.example/${i}`) })).body.error, 'invalid_redirect_uri', 'too many')
    const metadataErrors: Array<[string, Record<string, unknown>]> = [
      ['unknown auth method', { token_endpoint_auth_method: 'private_key_jwt' }],
      ['implicit grant', { grant_types: ['implicit'] }],
      ['token response type', { response_types: ['token'] }],
      ['unknown scope', { scope: 'admin' }],
      ['name too long', { client_name: 'x'.repeat(201) }],
      ['name not a string', { client_name: { a: 1 } }],
      ['logo over http', { logo_uri: 'http://example.com/logo.png' }],
    ]
    for (const [why, extra] of metadataErrors) {
      const response = await post({ redirect_uris: [REDIRECT_URI], ...extra })
      t.equal(response.status, 400, why)
      t.equal(response.body.error, 'invalid_client_metadata', why)
    }
    t.equal((await post('not json')).status, 400, 'malformed JSON')
    t.equal((await post([REDIRECT_URI])).body.error, 'invalid_client_metadata', 'a body that is not an object')
    t.equal((await post({ redirect_uris: [REDIRECT_URI], client_name: 'x'.repeat(20000) })).status, 400, 'an oversized body')

    t.test('a confidential client authenticates as it registered', async (t) => {
      await signUp(server, 'linus@example.com', 'a long enough secret')
      const { code, verifier } = await obtainCode(server, confidential.body.client_id, { email: 'linus@example.com', password: 'a long enough secret' })
      const grant = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI }
      const noSecret = await token(server, { ...grant, client_id: confidential.body.client_id })
      t.equal(noSecret.status, 401)
      t.equal(noSecret.body.error, 'invalid_client')
      const basicWrong = await token(server, grant, { authorization: `Basic ${Buffer.from(`${confidential.body.client_id}:wrong`).toString('base64')}` })
      t.equal(basicWrong.status, 401)
      t.match(basicWrong.headers.get('www-authenticate'), /^Basic /)
      const postInstead = await token(server, { ...grant, client_id: confidential.body.client_id, client_secret: confidential.body.client_secret })
      t.equal(postInstead.body.error, 'invalid_client', 'a basic client may not switch to client_secret_post')
      const basic = await token(server, grant, { authorization: `Basic ${Buffer.from(`${confidential.body.client_id}:${confidential.body.client_secret}`).toString('base64')}` })
      t.equal(basic.status, 200)
      t.ok(basic.body.access_token)

      const basicAuth = `Basic ${Buffer.from(`${confidential.body.client_id}:${confidential.body.client_secret}`).toString('base64')}`
      const introspection = await fetch(`${base}/introspect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth },
        body: new URLSearchParams({ token: basic.body.access_token }).toString(),
      })
      t.equal(introspection.status, 404, 'no introspection without OAUTH_INTROSPECTION_SECRET, not even for confidential clients')
    })

    t.test('registration is rate limited per address', async (t) => {
      let last = 0
      for (let i = 0; i < 45 && last !== 429; i++) last = (await post({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' })).status
      t.equal(last, 429)
    })

    t.test('registrations unused for 30 days expire', async (t) => {
      await server.db.query("update atoms_oauth.clients set last_used_at = now() - interval '31 days' where client_id = $1", [publicClient.body.client_id])
      const response = await token(server, { grant_type: 'refresh_token', refresh_token: 'x', client_id: publicClient.body.client_id })
      t.equal(response.status, 401)
      t.equal(response.body.error, 'invalid_client', 'an expired client is 401 invalid_client, so clients register again')
    })
  })
}

t.test('behind a proxy (TRUST_PROXY) the registration limit counts each client address', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth', OAUTH_REGISTRATIONS_PER_HOUR: '2', TRUST_PROXY: '1' })
  t.teardown(() => server.dispose())
  const registerFrom = async (address: string) =>
    (await fetch(`${server.config.baseUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' }),
    })).status
  t.same([await registerFrom('203.0.113.7'), await registerFrom('203.0.113.7'), await registerFrom('203.0.113.7')], [201, 201, 429])
  t.equal(await registerFrom('198.51.100.9'), 201, 'another client behind the same proxy is not affected')
})
