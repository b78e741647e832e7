import http from 'node:http'
import t from 'tap'
import { McpError } from '@modelcontextprotocol/sdk/types.js'
import { backends } from '../helpers/backends.ts'
import { call, connect, ok, postMcp, signUp, startMcpServer } from '../helpers/mcp.ts'

const initialize = (protocolVersion: string) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
})

for (const backend of backends()) {
  t.test(`MCP over Streamable HTTP on ${backend.name}`, async (t) => {
    const server = await startMcpServer(backend)
    t.teardown(() => server.dispose())
    const alice = await signUp(server, 'alice@example.com')
    const auth = { authorization: `Bearer ${alice.token}` }
    const client = await connect(server, alice)
    t.teardown(() => client.close())

    t.test('tools/list shows the five tools with their schemas', async (t) => {
      const { tools } = await client.listTools()
      t.same(tools.map((tool) => tool.name).sort(), ['entity_tool', 'get_api_usage', 'relationship_tool', 'whoami', 'workspace_tool'])
      for (const tool of tools) {
        t.equal(tool.inputSchema.type, 'object', `${tool.name} takes an object`)
        t.ok(tool.description && tool.description.length > 40, `${tool.name} is described`)
      }
      const entity = tools.find((tool) => tool.name === 'entity_tool')!
      const properties = entity.inputSchema.properties as Record<string, any>
      t.same(properties.operation.enum, ['create', 'read', 'update', 'delete', 'list', 'search'])
      t.same(properties.entity_type.enum, ['organization', 'project', 'document', 'requirement', 'test'])
      t.same(entity.inputSchema.required, ['operation', 'entity_type'])
      t.ok(properties.cursor.description, 'every argument is described')
    })

    t.test('whoami returns the user the token belongs to, without the token', async (t) => {
      const outcome = await call(client, 'whoami')
      t.equal(outcome.value.id, alice.id)
      t.equal(outcome.value.email, 'alice@example.com')
      t.equal(outcome.value.mode, 'jwt')
      t.equal(outcome.value.role, 'authenticated')
      t.ok(Date.parse(outcome.value.expires_at) > Date.now())
      t.notOk(outcome.text.includes(alice.token), 'the token is not echoed')
    })

    t.test('get_api_usage counts the calls of the current window', async (t) => {
      const first = await ok(client, 'get_api_usage')
      const second = await ok(client, 'get_api_usage')
      t.equal(second.used, first.used + 1)
      t.same([second.limit, second.remaining], [null, null], 'no limit unless USAGE_LIMIT_PER_MINUTE sets one')
    })

    t.test('the three Streamable HTTP protocol versions are negotiated', async (t) => {
      for (const version of ['2025-11-25', '2025-06-18', '2025-03-26']) {
        const response = await postMcp(server, initialize(version), auth)
        t.equal(response.status, 200)
        t.equal(response.json.result.protocolVersion, version)
      }
      const old = await postMcp(server, initialize('2024-11-05'), auth)
      t.equal(old.json.result.protocolVersion, '2025-11-25', 'a version this transport does not speak gets the latest')
      const header = await postMcp(server, { jsonrpc: '2.0', id: 2, method: 'ping' }, { ...auth, 'mcp-protocol-version': '1999-01-01' })
      t.equal(header.status, 400)
      t.equal(header.json.error.code, -32600)
    })

    t.test('no token, a bad token and a malformed header are refused with a Bearer challenge', async (t) => {
      const none = await postMcp(server, initialize('2025-11-25'))
      t.equal(none.status, 401)
      t.equal(none.headers.get('www-authenticate'), 'Bearer realm="atoms-mcp"')
      const bad = await postMcp(server, initialize('2025-11-25'), { authorization: 'Bearer not.a.jwt' })
      t.equal(bad.status, 401)
      t.match(bad.headers.get('www-authenticate'), /^Bearer realm="atoms-mcp", error="invalid_token"/)
      // Another scheme is no bearer token at all: the bare challenge, as with no header (RFC 6750 §3.1).
      const basic = await postMcp(server, initialize('2025-11-25'), { authorization: 'Basic dTpw' })
      t.equal(basic.status, 401)
      t.equal(basic.headers.get('www-authenticate'), 'Bearer realm="atoms-mcp"')
    })

    t.test('a foreign Origin or Host is refused (DNS-rebinding protection on loopback)', async (t) => {
      const evil = await postMcp(server, initialize('2025-11-25'), { ...auth, origin: 'http://evil.example' })
      t.equal(evil.status, 403)
      // fetch will not set Host; a rebinding browser would send the attacker's name there.
      const rebound = await new Promise<number>((resolve, reject) => {
        const url = new URL(`${server.config.baseUrl}/mcp`)
        const body = JSON.stringify(initialize('2025-11-25'))
        const request = http.request({ host: url.hostname, port: url.port, path: '/mcp', method: 'POST', headers: { ...auth, host: 'evil.example', 'content-type': 'application/json', accept: 'application/json' } }, (response) => {
          response.resume()
          resolve(response.statusCode!)
        })
        request.on('error', reject)
        request.end(body)
      })
      t.equal(rebound, 403)
      const local = await postMcp(server, initialize('2025-11-25'), { ...auth, origin: 'http://localhost:6274' })
      t.equal(local.status, 200, 'a local tool on another port is allowed')
    })

    t.test('malformed calls are JSON-RPC errors, user mistakes are tool errors', async (t) => {
      const badOperation = await postMcp(server, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'entity_tool', arguments: { operation: 'explode', entity_type: 'project' } } }, auth)
      t.equal(badOperation.json.error.code, -32602)
      const missingId = await postMcp(server, { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'entity_tool', arguments: { operation: 'read', entity_type: 'project' } } }, auth)
      t.equal(missingId.json.error.code, -32602)
      t.match(missingId.json.error.message, /id: required for operation read/)
      const unknown = await postMcp(server, { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'nope', arguments: {} } }, auth)
      t.equal(unknown.json.error.code, -32602)
      await t.rejects(client.callTool({ name: 'whoami', arguments: { surprise: true } }), McpError)

      const badField = await call(client, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'X', slug: 'x', colour: 'red' } })
      t.ok(badField.isError)
      t.match(badField.text, /colour/)
      const badSlug = await call(client, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'X', slug: 'Not A Slug' } })
      t.ok(badSlug.isError)
      t.match(badSlug.text, /data\.slug/)

      const notJson = await postMcp(server, '{"jsonrpc":', auth)
      t.equal(notJson.status, 400)
      t.equal(notJson.json.error.code, -32700)
      const notRpc = await postMcp(server, { hello: 'world' }, auth)
      t.equal(notRpc.status, 400)
      t.equal(notRpc.json.error.code, -32600)
    })

    t.test('JSON by default, SSE when the client asks for events only, 202 for notifications, batches', async (t) => {
      const json = await postMcp(server, { jsonrpc: '2.0', id: 'a', method: 'tools/list' }, auth)
      t.match(json.headers.get('content-type'), /application\/json/)
      t.equal(json.json.id, 'a')
      const sse = await postMcp(server, { jsonrpc: '2.0', id: 'b', method: 'tools/list' }, { ...auth, accept: 'text/event-stream' })
      t.match(sse.headers.get('content-type'), /text\/event-stream/)
      const data = sse.text.split('\n').find((line) => line.startsWith('data: '))!
      t.equal(JSON.parse(data.slice(6)).id, 'b')
      const progress = await postMcp(server, { jsonrpc: '2.0', id: 'c', method: 'tools/call', params: { name: 'whoami', arguments: {}, _meta: { progressToken: 'p1' } } }, auth)
      t.match(progress.headers.get('content-type'), /text\/event-stream/, 'a request wanting progress is streamed')
      t.match(progress.text, /"id":"c"/)
      const notification = await postMcp(server, { jsonrpc: '2.0', method: 'notifications/initialized' }, auth)
      t.equal(notification.status, 202)
      const batch = await postMcp(server, [{ jsonrpc: '2.0', id: 1, method: 'ping' }, { jsonrpc: '2.0', id: 2, method: 'tools/list' }], auth)
      t.same(batch.json.map((r: any) => r.id), [1, 2])
      const get = await fetch(`${server.config.baseUrl}/mcp`, { headers: { ...auth, accept: 'text/event-stream' } })
      t.equal(get.status, 405)
      await get.text()
    })

    t.test('resources: the profile and entities by URI template', async (t) => {
      const { resources } = await client.listResources()
      t.same(resources.map((r) => r.uri), ['user://profile'])
      const { resourceTemplates } = await client.listResourceTemplates()
      t.same(resourceTemplates.map((r) => r.uriTemplate), ['entity://{entity_type}/{id}'])
      const profile = await client.readResource({ uri: 'user://profile' })
      t.equal(JSON.parse((profile.contents[0] as any).text).id, alice.id)
      const org = await ok(client, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'Res', slug: 'res' } })
      const entity = await client.readResource({ uri: `entity://organization/${org.id}` })
      t.equal(JSON.parse((entity.contents[0] as any).text).slug, 'res')
      await t.rejects(client.readResource({ uri: 'entity://organization/00000000-0000-4000-8000-000000000000' }), { code: -32602 })
    })
  })
}
