import t from 'tap'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { backends } from '../helpers/backends.ts'
import { ok, postMcp, signUp, startMcpServer } from '../helpers/mcp.ts'
import type { TestServer } from '../helpers/server.ts'

async function rest(server: TestServer, method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.config.baseUrl}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: response.status, challenge: response.headers.get('www-authenticate'), json: (await response.json()) as any }
}

for (const backend of backends()) {
  t.test(`legacy surfaces on ${backend.name}`, async (t) => {
    const server = await startMcpServer(backend)
    t.teardown(() => server.dispose())
    const alice = await signUp(server, 'alice@example.com')
    const bob = await signUp(server, 'bob@example.com')
    const bearer = (user: { token: string }) => ({ authorization: `Bearer ${user.token}` })

    t.test('the 2024-11-05 HTTP+SSE transport with the SDK client', async (t) => {
      const transport = new SSEClientTransport(new URL(`${server.config.baseUrl}/sse`), { requestInit: { headers: bearer(alice) } })
      const client = new Client({ name: 'sse-test', version: '1.0.0' })
      await client.connect(transport)
      t.teardown(() => client.close())
      const { tools } = await client.listTools()
      t.equal(tools.length, 5)
      t.equal((await ok(client, 'whoami')).id, alice.id)
      const org = await ok(client, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'Over SSE', slug: 'over-sse' } })
      t.equal(org.created_by, alice.id)

      const unauthenticated = await fetch(`${server.config.baseUrl}/sse`, { headers: { accept: 'text/event-stream' } })
      t.equal(unauthenticated.status, 401)
      await unauthenticated.text()
      const noSession = await rest(server, 'POST', '/messages?sessionId=nope', { jsonrpc: '2.0', id: 1, method: 'ping' }, bearer(alice))
      t.equal(noSession.status, 404)
    })

    t.test('an SSE session answers only the user who opened it', async (t) => {
      const response = await fetch(`${server.config.baseUrl}/sse`, { headers: { ...bearer(alice), accept: 'text/event-stream' } })
      const reader = response.body!.getReader()
      let text = ''
      while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value)
      const endpoint = /data: (\S+)/.exec(text)![1]!
      t.match(endpoint, /^\/messages\?sessionId=/)
      const hijack = await rest(server, 'POST', endpoint, { jsonrpc: '2.0', id: 1, method: 'ping' }, bearer(bob))
      t.equal(hijack.status, 403)
      await reader.cancel()
    })

    t.test('REST: GET /api/mcp/tools and POST /api/mcp/tools/call', async (t) => {
      const listed = await rest(server, 'GET', '/api/mcp/tools', undefined, bearer(alice))
      t.equal(listed.status, 200)
      t.equal(listed.json.result.tools.length, 5)
      const anonymous = await rest(server, 'GET', '/api/mcp/tools')
      t.equal(anonymous.status, 401)
      t.same(anonymous.json, { error: { code: 'invalid_token', message: 'this endpoint needs a bearer token' } })

      const me = await rest(server, 'POST', '/api/mcp/tools/call', { tool: 'whoami', arguments: {} }, bearer(alice))
      t.equal(me.status, 200)
      t.equal(me.json.result.id, alice.id)

      const org = await rest(server, 'POST', '/api/mcp/tools/call', { tool: 'entity_tool', arguments: { operation: 'create', entity_type: 'organization', data: { name: 'REST', slug: 'rest' } } }, bearer(alice))
      t.equal(org.json.result.slug, 'rest')
      const cases: Array<[string, unknown, number, string]> = [
        ['unknown tool', { tool: 'nope', arguments: {} }, 404, 'unknown_tool'],
        ['malformed arguments', { tool: 'entity_tool', arguments: { operation: 'explode' } }, 400, 'invalid_params'],
        ['not found', { tool: 'entity_tool', arguments: { operation: 'read', entity_type: 'project', id: '00000000-0000-4000-8000-000000000000' } }, 404, 'not_found'],
        ['invalid field', { tool: 'entity_tool', arguments: { operation: 'create', entity_type: 'organization', data: { name: 'X' } } }, 400, 'invalid_argument'],
        ['conflict', { tool: 'entity_tool', arguments: { operation: 'create', entity_type: 'organization', data: { name: 'Again', slug: 'rest' } } }, 409, 'conflict'],
        ['no tool', { arguments: {} }, 400, 'invalid_request'],
      ]
      for (const [what, body, status, code] of cases) {
        const answer = await rest(server, 'POST', '/api/mcp/tools/call', body, bearer(alice))
        t.equal(answer.status, status, `${what}: status`)
        t.equal(answer.json.error?.code, code, `${what}: code`)
        t.type(answer.json.error?.message, 'string')
      }
      const forbidden = await rest(server, 'POST', '/api/mcp/tools/call', { tool: 'entity_tool', arguments: { operation: 'update', entity_type: 'organization', id: org.json.result.id, data: { name: 'B' } } }, bearer(bob))
      t.equal(forbidden.status, 404, 'another user\'s organization is not found, not forbidden')
      const broken = await rest(server, 'POST', '/api/mcp/tools/call', '{"tool":', bearer(alice))
      t.equal(broken.status, 400)
      t.equal(broken.json.error.code, 'invalid_request')
    })

    t.test('the legacy auth_token argument', async (t) => {
      const viaArgument = await rest(server, 'POST', '/api/mcp/tools/call', { tool: 'whoami', arguments: { auth_token: alice.token } })
      t.equal(viaArgument.status, 200)
      t.equal(viaArgument.json.result.id, alice.id, 'works with no Authorization header')

      // whoami takes no arguments: had auth_token reached it, the call would be malformed.
      const both = await rest(server, 'POST', '/api/mcp/tools/call', { tool: 'whoami', arguments: { auth_token: bob.token } }, bearer(alice))
      t.equal(both.json.result.id, alice.id, 'the header wins and the argument is removed')

      const badArgument = await rest(server, 'POST', '/api/mcp/tools/call', { tool: 'whoami', arguments: { auth_token: 'forged.token.here' } })
      const badHeader = await rest(server, 'POST', '/api/mcp/tools/call', { tool: 'whoami', arguments: {} }, { authorization: 'Bearer forged.token.here' })
      t.equal(badArgument.status, 401)
      t.same([badArgument.status, badArgument.challenge, badArgument.json], [badHeader.status, badHeader.challenge, badHeader.json], 'refused exactly like a bad header')
      t.match(badArgument.challenge, /error="invalid_token"/)

      const call = (auth_token: string) => ({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'whoami', arguments: { auth_token } } })
      const mcp = await postMcp(server, call(alice.token))
      t.equal(mcp.status, 200)
      t.equal(JSON.parse(mcp.json.result.content[0].text).id, alice.id, 'also on /mcp')
      const mcpBad = await postMcp(server, call('forged.token.here'))
      const mcpBadHeader = await postMcp(server, { ...call(''), params: { name: 'whoami', arguments: {} } }, { authorization: 'Bearer forged.token.here' })
      t.equal(mcpBad.status, 401)
      t.equal(mcpBad.headers.get('www-authenticate'), mcpBadHeader.headers.get('www-authenticate'))
    })
  })
}
