import t from 'tap'
import { obtainCode as obtainCodeAt } from '../../scripts/lib/oauth-flow.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { signUp } from '../oauth/helpers.ts'
import { authorizeUrl, pkce, register, token } from '../oauth/manual-client.ts'
import { USER } from './helpers.ts'

// Finding 7: anybody could register a client naming any site as its redirect URI, and then
// `/authorize?client_id=…&response_type=x` sent browsers there (RFC 9700 §4.11.2).

t.test('finding 7: /authorize errors of a client that never redeemed a code are shown, not redirected', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth', OAUTH_REGISTRATIONS_PER_HOUR: '0' })
  t.teardown(() => server.dispose())
  const target = 'https://evil.example/l'
  const client = (await register(server, { redirect_uris: [target] })).body
  const attempts: Record<string, string>[] = [
    { client_id: client.client_id, response_type: 'x' },
    { client_id: client.client_id, response_type: 'code', redirect_uri: target },
    { client_id: client.client_id, response_type: 'code', code_challenge: pkce().challenge, code_challenge_method: 'S256', scope: 'admin' },
  ]
  for (const params of attempts) {
    const response = await fetch(authorizeUrl(server, params), { redirect: 'manual' })
    t.equal(response.status, 400, JSON.stringify(params))
    t.equal(response.headers.get('location'), null, 'no redirect')
    t.match(response.headers.get('content-type'), /text\/html/)
  }

  // Once a code issued to it has been redeemed, its redirect URI has been shown to be its own.
  await signUp(server, USER.email, USER.password)
  const { code, verifier } = await obtainCodeAt(server.config.baseUrl, client.client_id, USER, { redirectUri: target })
  const redeemed = await token(server, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: target, client_id: client.client_id })
  t.equal(redeemed.status, 200)
  const response = await fetch(authorizeUrl(server, { client_id: client.client_id, response_type: 'x', state: 's' }), { redirect: 'manual' })
  t.equal(response.status, 302)
  const location = new URL(response.headers.get('location')!)
  t.equal(`${location.origin}${location.pathname}`, target)
  t.equal(location.searchParams.get('error'), 'unsupported_response_type')
})
