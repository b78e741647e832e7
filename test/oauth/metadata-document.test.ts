import t from 'tap'
import { auth } from '@modelcontextprotocol/sdk/client/auth.js'
import { backends } from '../helpers/backends.ts'
import { documentHost } from './document-host.ts'
import { startTestServer } from '../helpers/server.ts'
import { REDIRECT_URI, signUp, sessionUser, TestOAuthProvider } from './helpers.ts'

const documents = {
  '/client.json': (url: string) => ({
    client_id: url, client_name: 'Documented <b>client</b>', redirect_uris: ['http://127.0.0.1/callback'],
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none',
  }),
  '/impostor.json': () => ({ client_id: 'https://someone.else.example/client.json', client_name: 'Impostor', redirect_uris: [REDIRECT_URI] }),
  '/secret.json': (url: string) => ({ client_id: url, client_name: 'Secret', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_basic' }),
}

for (const backend of backends()) {
  t.test(`Client ID Metadata Documents on ${backend.name}`, async (t) => {
    const host = await documentHost(documents)
    t.teardown(() => host.close())
    const server = await startTestServer(backend, { AUTH_MODE: 'oauth', OAUTH_CIMD_ALLOW_PRIVATE_HOSTS: 'true' })
    t.teardown(() => server.dispose())
    const userId = await signUp(server, 'barbara@example.com', 'a long enough secret')
    const metadataUrl = `${host.origin}/client.json`
    const provider = new TestOAuthProvider({ email: 'barbara@example.com', password: 'a long enough secret' }, { metadataUrl })
    const serverUrl = `${server.config.baseUrl}/mcp`

    t.equal(await auth(provider, { serverUrl }), 'REDIRECT')
    t.equal(provider.information?.client_id, metadataUrl, 'the SDK used the document URL as client_id, with no registration')
    t.equal(await server.db.query('select 1 from atoms_oauth.clients').then((r) => r.rows.length), 0, 'nothing was registered')
    t.ok(provider.pendingCode, 'the loopback redirect with a run-time port matched the document')
    t.equal(await auth(provider, { serverUrl, authorizationCode: provider.pendingCode! }), 'AUTHORIZED')
    t.equal((await sessionUser(server, provider.stored!.access_token)).id, userId)
    t.equal(await auth(provider, { serverUrl }), 'AUTHORIZED', 'refresh works for a document client')
    t.equal(host.fetches(), 1, 'the document was fetched once and then served from the cache')

    const page = await fetch(`${server.config.baseUrl}/authorize?${new URLSearchParams({
      response_type: 'code', client_id: metadataUrl, redirect_uri: 'http://127.0.0.1:5555/callback',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
    })}`)
    const text = await page.text()
    t.match(text, /Documented &lt;b&gt;client&lt;\/b&gt;/, 'the name from the document is escaped')
    t.match(text, /described by localhost:\d+/, 'and the page names the host that describes it')

    for (const [path, why] of [['/impostor.json', 'a document naming another URL'], ['/secret.json', 'a document asking for a shared secret'], ['/missing.json', 'a missing document']]) {
      const response = await fetch(`${server.config.baseUrl}/authorize?${new URLSearchParams({
        response_type: 'code', client_id: `${host.origin}${path}`, redirect_uri: REDIRECT_URI,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
      })}`, { redirect: 'manual' })
      t.equal(response.status, 400, why)
      t.match(await response.text(), /Unknown application/, why)
    }
  })
}

t.test('documents on private addresses are refused unless allowed', async (t) => {
  const host = await documentHost(documents)
  t.teardown(() => host.close())
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth' })
  t.teardown(() => server.dispose())
  const response = await fetch(`${server.config.baseUrl}/authorize?${new URLSearchParams({
    response_type: 'code', client_id: `${host.origin}/client.json`, redirect_uri: 'http://127.0.0.1/callback',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
  })}`, { redirect: 'manual' })
  t.equal(response.status, 400)
  t.equal(host.fetches(), 0, 'localhost was never contacted')
})
