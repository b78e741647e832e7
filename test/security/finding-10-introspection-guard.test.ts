import t from 'tap'
import { INTROSPECTION_FAILURES } from '../../src/oauth/handlers/introspect.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { obtainCode, register, token } from '../oauth/manual-client.ts'
import { REDIRECT_URI } from '../oauth/helpers.ts'
import { connectedClient, USER } from './helpers.ts'

// Finding 10: introspection was "confidential clients only", but anybody can register a
// confidential client. It is for the deployment's resource servers, which the operator gives
// OAUTH_INTROSPECTION_SECRET; no client, whatever it registered, can introspect.

const SECRET = 'resource-servers-only-0123456789abcdefghij'

async function introspect(server: TestServer, value: string, headers: Record<string, string>) {
  const response = await fetch(`${server.config.baseUrl}/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ token: value }),
  })
  return { status: response.status, body: (await response.json()) as any }
}

t.test('finding 10: only the configured resource-server secret introspects, and guessing it is limited', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth', OAUTH_INTROSPECTION_SECRET: SECRET, OAUTH_REGISTRATIONS_PER_HOUR: '0' })
  t.teardown(() => server.dispose())
  const { tokens } = await connectedClient(server)

  // A self-registered confidential client with a live grant of its own.
  const confidential = (await register(server, { token_endpoint_auth_method: 'client_secret_basic' })).body
  const basic = { authorization: `Basic ${Buffer.from(`${confidential.client_id}:${confidential.client_secret}`).toString('base64')}` }
  const { code, verifier } = await obtainCode(server, confidential.client_id, USER)
  const own = await token(server, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI }, basic)
  t.equal(own.status, 200)
  for (const value of [tokens.access_token, own.body.access_token, own.body.refresh_token]) {
    const refused = await introspect(server, value, basic)
    t.equal(refused.status, 401, 'a registered confidential client may not introspect')
    t.equal(refused.body.error, 'invalid_client')
    t.equal(refused.body.active, undefined)
  }

  const resourceServer = { authorization: `Bearer ${SECRET}` }
  const active = await introspect(server, tokens.access_token, resourceServer)
  t.equal(active.status, 200)
  t.equal(active.body.active, true)
  t.equal(active.body.username, USER.email)
  t.same((await introspect(server, own.body.refresh_token, resourceServer)).body, { active: false }, 'refresh tokens are no resource server\'s business')
  t.same((await introspect(server, 'garbage', resourceServer)).body, { active: false })

  const metadata: any = await (await fetch(`${server.config.baseUrl}/.well-known/oauth-authorization-server`)).json()
  t.equal(metadata.introspection_endpoint, `${server.config.baseUrl}/introspect`)

  for (let i = 0; i < 5; i++) t.equal((await introspect(server, tokens.access_token, resourceServer)).status, 200, 'genuine calls do not use up the limit')
  // A burst, all at once: the guesses are counted before they are checked.
  const burst = await Promise.all(Array.from({ length: INTROSPECTION_FAILURES + 10 }, (_, i) => introspect(server, tokens.access_token, { authorization: `Bearer guess-${i}` })))
  const statuses = burst.map((answer) => answer.status)
  const failedBefore = 3 // the client's three attempts above
  t.equal(statuses.filter((status) => status === 401).length, INTROSPECTION_FAILURES - failedBefore, 'the guesses allowed, counting the failures before')
  t.equal(statuses.filter((status) => status === 429).length, 10 + failedBefore, 'the rest are refused unchecked')
  t.equal((await introspect(server, tokens.access_token, resourceServer)).status, 429, 'and so is the right secret from that address, until the window ends')
})
