import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createClientResolver, DOCUMENT_FETCH_LIMITS } from '../../src/oauth/client-resolver.ts'
import { postgresOAuthStore } from '../../src/oauth/store/postgres.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { documentHost } from '../oauth/document-host.ts'
import { pkce } from '../oauth/manual-client.ts'

// Finding 8: any unauthenticated request to /authorize, /token, /revoke (or /introspect) naming
// an https client_id made this server fetch that URL; refusals were not cached and nothing
// limited the fetches. A loopback document host counts what reaches it.

const good = (url: string) => ({ client_id: url, client_name: 'Good', redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none' })

async function authorize(server: TestServer, clientId: string) {
  const response = await fetch(`${server.config.baseUrl}/authorize?${new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: 'http://127.0.0.1/callback', code_challenge: pkce().challenge, code_challenge_method: 'S256',
  })}`, { redirect: 'manual' })
  await response.body?.cancel()
  return response.status
}

t.test('finding 8: document fetches are cached when they fail, shared, and limited per caller and per host', async (t) => {
  const host = await documentHost({ '/good.json': good })
  t.teardown(() => host.close())
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth', OAUTH_CIMD_ALLOW_PRIVATE_HOSTS: 'true' })
  t.teardown(() => server.dispose())
  const token = (clientId: string) => fetch(`${server.config.baseUrl}/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', code_verifier: 'y', client_id: clientId }),
  }).then((response) => response.status)
  const fresh = async () => {
    await server.db.query('delete from atoms_oauth.rate_limits')
    return host.fetches()
  }

  t.test('a failed fetch is remembered', async (t) => {
    const before = await fresh()
    const missing = `${host.origin}/missing.json`
    for (let i = 0; i < 5; i++) t.equal(await authorize(server, missing), 400)
    for (let i = 0; i < 5; i++) t.equal(await token(missing), 401)
    t.equal(host.fetches() - before, 1, 'ten requests, one fetch')
  })

  t.test('concurrent requests for one document share one fetch', async (t) => {
    const before = await fresh()
    const statuses = await Promise.all(Array.from({ length: 8 }, () => authorize(server, `${host.origin}/good.json`)))
    t.same(statuses, Array(8).fill(200))
    t.equal(host.fetches() - before, 1)
  })

  t.test('one caller naming many documents', async (t) => {
    const before = await fresh()
    for (let i = 0; i < DOCUMENT_FETCH_LIMITS.perCaller + 10; i++) await authorize(server, `${host.origin}/caller-${i}.json`)
    t.equal(host.fetches() - before, DOCUMENT_FETCH_LIMITS.perCaller)
  })

  t.test('many callers naming documents of one host', async (t) => {
    const before = await fresh()
    const resolve = createClientResolver(server.config, postgresOAuthStore(server.db, randomBytes(32)))
    for (let i = 0; i < DOCUMENT_FETCH_LIMITS.perHost + 10; i++) await resolve(`${host.origin}/host-${i}.json`, `192.0.2.${i}`)
    t.equal(host.fetches() - before, DOCUMENT_FETCH_LIMITS.perHost)
  })
})
