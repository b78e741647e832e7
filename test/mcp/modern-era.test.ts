import t from 'tap'
import { backends } from '../helpers/backends.ts'
import { postMcp, signUp, startMcpServer } from '../helpers/mcp.ts'

// The 2026-07-28 revision on /mcp: a request is served in that era when its params carry the
// `_meta` envelope, and every rule of the revision is checked here on the wire.

const VERSION = '2026-07-28'
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': VERSION,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
}

/** A 2026-07-28 request: the envelope in `_meta`, and the standard headers mirroring the body. */
function modern(method: string, params: Record<string, unknown> = {}, id: number | string = 7) {
  const name = typeof params.name === 'string' ? params.name : typeof params.uri === 'string' ? params.uri : undefined
  return {
    body: { jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...ENVELOPE, ...(params._meta as object) } } },
    headers: { 'mcp-protocol-version': VERSION, 'mcp-method': method, ...(name !== undefined ? { 'mcp-name': name } : {}) } as Record<string, string>,
  }
}

const backend = backends()[0]!

t.test('MCP 2026-07-28 on /mcp', async (t) => {
  const server = await startMcpServer(backend)
  t.teardown(() => server.dispose())
  const alice = await signUp(server, 'modern-alice@example.com')
  const auth = { authorization: `Bearer ${alice.token}` }
  const send = (request: ReturnType<typeof modern>, headers: Record<string, string> = {}) => postMcp(server, request.body, { ...auth, ...request.headers, ...headers })

  t.test('server/discover names the versions, capabilities, server and instructions', async (t) => {
    const response = await send(modern('server/discover'))
    t.equal(response.status, 200)
    const result = response.json.result
    t.same(result.supportedVersions, [VERSION])
    t.ok(result.capabilities.tools, 'tools are offered')
    t.ok(result.capabilities.resources, 'resources are offered')
    t.match(result.instructions, /atoms-mcp manages/)
    t.equal(result._meta['io.modelcontextprotocol/serverInfo'].name, 'atoms-mcp')
    t.equal(response.json.id, 7)
  })

  t.test('lists carry ttlMs and a cacheScope true of them: the same for every user, so public', async (t) => {
    for (const method of ['tools/list', 'resources/list', 'resources/templates/list']) {
      const response = await send(modern(method))
      t.equal(response.status, 200, method)
      t.ok(Number.isSafeInteger(response.json.result.ttlMs) && response.json.result.ttlMs > 0, `${method} has a ttlMs`)
      t.equal(response.json.result.cacheScope, 'public', `${method} is public`)
    }
    const tools = (await send(modern('tools/list'))).json.result.tools
    t.same(tools.map((tool: { name: string }) => tool.name).sort(), ['entity_tool', 'get_api_usage', 'relationship_tool', 'whoami', 'workspace_tool'])
    const profile = await send(modern('resources/read', { uri: 'user://profile' }))
    t.equal(profile.json.result.cacheScope, 'private', 'what a read returns is the caller’s own')
    t.equal(JSON.parse(profile.json.result.contents[0].text).id, alice.id)
  })

  t.test('tools/call: whoami and an entity round trip, the tools unaware of the era', async (t) => {
    const me = await send(modern('tools/call', { name: 'whoami', arguments: {} }))
    t.equal(me.status, 200)
    t.equal(me.json.result.resultType, 'complete')
    t.equal(me.json.result.structuredContent.id, alice.id)
    const created = await send(modern('tools/call', { name: 'entity_tool', arguments: { operation: 'create', entity_type: 'organization', data: { name: 'Modern', slug: 'modern' } } }))
    const org = created.json.result.structuredContent
    const read = await send(modern('resources/read', { uri: `entity://organization/${org.id}` }))
    t.equal(JSON.parse(read.json.result.contents[0].text).name, 'Modern', 'what a tool created, a resource reads')
  })

  t.test('the fast tool call answers exactly as the SDK’s own handler does', async (t) => {
    const fast = await send(modern('tools/call', { name: 'whoami', arguments: {} }, 'a'))
    // A progress token takes the call through the SDK (whoami reports no progress).
    const viaSdk = await send(modern('tools/call', { name: 'whoami', arguments: {}, _meta: { progressToken: 'p' } }, 'a'))
    t.equal(viaSdk.status, 200)
    const strip = (result: any) => ({ ...result, content: undefined, structuredContent: { ...result.structuredContent, expires_at: undefined } })
    t.same(strip(fast.json.result), strip(viaSdk.json.result))
    t.same(Object.keys(fast.json).sort(), Object.keys(viaSdk.json).sort())
    const unknownFast = await send(modern('tools/call', { name: 'nope', arguments: {} }))
    const unknownSdk = await send(modern('tools/call', { name: 'nope', arguments: {}, _meta: { progressToken: 'p' } }))
    t.equal(unknownFast.status, unknownSdk.status, 'an unknown tool: the same status')
    t.same(unknownFast.json, unknownSdk.json, 'and the same error')
  })

  t.test('a bad or missing envelope is -32602 with HTTP 400, and keeps the request id', async (t) => {
    const request = modern('tools/list', {}, 'bad-envelope')
    const bad = await postMcp(server, { ...request.body, params: { _meta: { 'io.modelcontextprotocol/protocolVersion': VERSION } } }, { ...auth, ...request.headers })
    t.equal(bad.status, 400)
    t.equal(bad.json.error.code, -32602)
    t.equal(bad.json.id, 'bad-envelope')
    const headerOnly = await postMcp(server, { jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} }, { ...auth, ...request.headers })
    t.equal(headerOnly.status, 400, 'a modern header without the envelope')
    t.equal(headerOnly.json.error.code, -32602)
    t.equal(headerOnly.json.id, 3)
  })

  t.test('an unsupported version: the error names the supported ones and the requested one, HTTP 400', async (t) => {
    const request = modern('tools/list', {}, 11)
    const body = { ...request.body, params: { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } } }
    const response = await postMcp(server, body, { ...auth, ...request.headers, 'mcp-protocol-version': '2099-01-01' })
    t.equal(response.status, 400)
    t.equal(response.json.id, 11)
    t.same(response.json.error.data.supported, [VERSION])
    t.equal(response.json.error.data.requested, '2099-01-01')
  })

  t.test('MCP-Protocol-Version, Mcp-Method and Mcp-Name are checked against the body: -32020, HTTP 400', async (t) => {
    const call = modern('tools/call', { name: 'whoami', arguments: {} }, 21)
    for (const [header, value] of [['mcp-protocol-version', '2025-11-25'], ['mcp-method', 'tools/list'], ['mcp-name', 'entity_tool']] as const) {
      const response = await send(call, { [header]: value })
      t.equal(response.status, 400, `${header}: ${value}`)
      t.equal(response.json.error.code, -32020)
      t.equal(response.json.id, 21)
    }
    const missing = await postMcp(server, call.body, { ...auth, 'mcp-protocol-version': VERSION, 'mcp-method': 'tools/call' })
    t.equal(missing.status, 400, 'a tool call without Mcp-Name')
    t.equal(missing.json.error.code, -32020)
    // RFC 9110 §5.5: spaces and tabs around a field value are not part of it.
    const padded = await send(call, { 'mcp-protocol-version': ` ${VERSION}\t`, 'mcp-method': '\ttools/call ', 'mcp-name': '  whoami ' })
    t.equal(padded.status, 200)
    t.equal(padded.json.result.structuredContent.id, alice.id)
  })

  t.test('removed and unknown methods are 404 with -32601, the id kept', async (t) => {
    for (const method of ['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'no/such/method']) {
      const response = await send(modern(method, method === 'logging/setLevel' ? { level: 'info' } : method === 'resources/subscribe' ? { uri: 'user://profile' } : {}, method))
      t.equal(response.status, 404, method)
      t.equal(response.json.error.code, -32601, method)
      t.equal(response.json.id, method)
    }
  })

  t.test('an unknown resource is -32602 with its uri in data', async (t) => {
    for (const uri of ['entity://organization/00000000-0000-4000-8000-000000000000', 'nope://x']) {
      const response = await send(modern('resources/read', { uri }, 31))
      t.equal(response.json.error.code, -32602, uri)
      t.equal(response.json.error.data.uri, uri)
      t.equal(response.json.id, 31)
    }
  })

  t.test('no capability the client did not declare is used: progress only for a client that asked', async (t) => {
    const response = await send(modern('tools/call', { name: 'whoami', arguments: {} }))
    t.equal(response.headers.get('content-type')?.split(';')[0], 'application/json', 'a plain call is answered in one JSON body')
    t.notOk(response.text.includes('notifications/'), 'and nothing is pushed to the client')
  })

  t.test('without a token: the same 401 challenge as the 2025 era, the request id kept', async (t) => {
    const request = modern('server/discover', {}, 41)
    const response = await postMcp(server, request.body, request.headers)
    t.equal(response.status, 401)
    t.equal(response.headers.get('www-authenticate'), 'Bearer realm="atoms-mcp"')
    t.equal(response.json.id, 41)
    const legacy = await postMcp(server, { jsonrpc: '2.0', id: 42, method: 'tools/list' })
    t.equal(legacy.status, 401)
    t.equal(legacy.headers.get('www-authenticate'), response.headers.get('www-authenticate'))
  })

  t.test('the 2025 era is untouched beside it', async (t) => {
    const init = await postMcp(server, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }, auth)
    t.equal(init.json.result.protocolVersion, '2025-11-25')
    const list = await postMcp(server, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { ...auth, 'mcp-protocol-version': '2025-11-25' })
    t.equal(list.json.result.ttlMs, undefined, 'no 2026 fields on 2025 results')
    t.equal(list.json.result.tools.length, 5)
    const unsupported = await postMcp(server, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, { ...auth, 'mcp-protocol-version': '1999-01-01' })
    t.equal(unsupported.status, 400)
    t.equal(unsupported.json.id, 3)
    t.equal(unsupported.json.error.data.requested, '1999-01-01')
  })
})
