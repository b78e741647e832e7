import Fastify from 'fastify'
import t from 'tap'
import { allowFormRedirects, pageSecurity, redirectSource } from '../../src/http/page-security.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { authorizeUrl, pkce, register } from '../oauth/manual-client.ts'

// Finding 9: a registered redirect URI whose host carries `;` went into the CSP form-action
// of the sign-in page; helmet threw on it and /authorize answered 500.
const SPLITTING_URIS = ['https://a;sandbox;b.example/cb', 'https://a,b.example/cb', "https://a'b.example/cb"]

t.test('finding 9: the CSP builder drops what is not a source and never throws', async (t) => {
  for (const uri of SPLITTING_URIS) t.equal(redirectSource(uri), undefined, uri)
  t.equal(redirectSource('https://app.example:8443/cb'), 'https://app.example:8443')
  t.equal(redirectSource('http://[::1]:3000/cb'), 'http://[::1]:3000')
  t.equal(redirectSource('com.example.app:/cb'), 'com.example.app:')

  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(async (pages) => {
    await pages.register(pageSecurity, { publicUrl: 'http://127.0.0.1' })
    pages.get('/page', async (_request, reply) => allowFormRedirects(reply, ['https://a;sandbox', 'https://ok.example', 'x, y']).send('page'))
  })
  const response = await app.inject('/page')
  t.equal(response.statusCode, 200)
  const csp = String(response.headers['content-security-policy'])
  t.match(csp, /form-action 'self' https:\/\/ok\.example;/)
  t.notMatch(csp, /sandbox/)
})

t.test('finding 9: such redirect URIs are refused at registration, and one stored before does not break /authorize', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth', OAUTH_REGISTRATIONS_PER_HOUR: '0', AUTH_OAUTH_SERVER_ALLOW_DYNAMIC_REGISTRATION: 'true' })
  t.teardown(() => server.dispose())
  const base = server.config.baseUrl
  for (const uri of SPLITTING_URIS) {
    const ours = await register(server, { redirect_uris: [uri] })
    t.equal(ours.status, 400, `/register refuses ${uri}`)
    t.equal(ours.body.error, 'invalid_redirect_uri')
    const embedded = await fetch(`${base}/auth/v1/oauth/clients/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', apikey: server.anonKey },
      body: JSON.stringify({ client_name: 'x', redirect_uris: [uri], token_endpoint_auth_method: 'none' }),
    })
    t.equal(embedded.status, 400, `the embedded OAuth server refuses ${uri}`)
  }

  // A registration kept from before the check.
  const client = await register(server)
  const uri = SPLITTING_URIS[0]!
  await server.db.query(`update atoms_oauth.clients set metadata = jsonb_set(metadata, '{redirect_uris}', $2::jsonb) where client_id = $1`, [
    client.body.client_id, JSON.stringify([uri]),
  ])
  const response = await fetch(authorizeUrl(server, {
    response_type: 'code', client_id: client.body.client_id, redirect_uri: uri, code_challenge: pkce().challenge, code_challenge_method: 'S256', state: 's',
  }), { redirect: 'manual' })
  t.equal(response.status, 200, 'the sign-in page, not a 500')
  t.notMatch(String(response.headers.get('content-security-policy')), /sandbox/)
})
