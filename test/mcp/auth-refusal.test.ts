import t from 'tap'
import { takeLegacyToken } from '../../src/mcp/authenticate.ts'
import { backends } from '../helpers/backends.ts'
import { postMcp } from '../helpers/mcp.ts'
import { startTestServer } from '../helpers/server.ts'

t.test('auth_token is taken out of every tool call of a body', async (t) => {
  const batch = [
    { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'a', arguments: { auth_token: 'first', x: 1 } } },
    { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'b', arguments: { auth_token: 'second' } } },
    { jsonrpc: '2.0', id: 3, method: 'ping', params: { auth_token: 'not a tool argument' } },
  ]
  t.equal(takeLegacyToken(batch), 'first')
  t.same(batch[0]!.params!.arguments, { x: 1 })
  t.same(batch[1]!.params!.arguments, {})
  t.same(batch[2]!.params, { auth_token: 'not a tool argument' }, 'only tool arguments are touched')
  const rest = { tool: 'whoami', arguments: { auth_token: 'rest' } }
  t.equal(takeLegacyToken(rest), 'rest')
  t.same(rest.arguments, {})
  t.equal(takeLegacyToken('garbage'), undefined)
})

for (const backend of backends().slice(0, 1)) {
  t.test('an unreachable key source is 503 with Retry-After, never 401', async (t) => {
    const server = await startTestServer(backend, { AUTH_MODE: 'jwt', JWKS_URL: 'http://127.0.0.1:1/jwks.json', UPSTREAM_TIMEOUT_MS: '500' })
    t.teardown(() => server.dispose())
    const response = await postMcp(server, { jsonrpc: '2.0', id: 1, method: 'ping' }, { authorization: 'Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln' })
    t.equal(response.status, 503)
    t.equal(response.headers.get('retry-after'), '5')
    const rest = await fetch(`${server.config.baseUrl}/api/mcp/tools`, { headers: { authorization: 'Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln' } })
    t.equal(rest.status, 503)
    t.same(((await rest.json()) as any).error.code, 'temporarily_unavailable')
  })
}
