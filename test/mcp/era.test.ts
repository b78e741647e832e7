import t from 'tap'
import { plainModernToolCall, routeByEra } from '../../src/mcp/era.ts'

const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} }
const HEADERS = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'whoami' }
const call = (meta: Record<string, unknown> = ENVELOPE, extra: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'whoami', arguments: {}, _meta: meta, ...extra },
})

t.test('a request claiming nothing of 2026-07-28 is 2025 traffic', async (t) => {
  t.same(routeByEra({}, { jsonrpc: '2.0', id: 1, method: 'tools/list' }), { era: 'legacy' })
  t.same(routeByEra({ 'mcp-protocol-version': '2025-06-18' }, [{ jsonrpc: '2.0', id: 1, method: 'ping' }]), { era: 'legacy' })
  t.same(routeByEra({}, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } } }), {
    era: 'legacy',
  })
})

t.test('the envelope makes it 2026-07-28, as the SDK decides', async (t) => {
  const route = routeByEra(HEADERS, call())
  t.equal(route.era, 'modern')
  const bad = routeByEra(HEADERS, call({ 'io.modelcontextprotocol/protocolVersion': '2026-07-28' }))
  t.match(bad, { era: 'reject', status: 400, error: { code: -32602 } }, 'an envelope without client capabilities')
  const batch = routeByEra({}, [call()])
  t.match(batch, { era: 'reject', status: 400, error: { code: -32600 } }, 'no batches in 2026-07-28')
})

t.test('regression: a remembered verdict is per envelope and headers, so a changed header is judged again', async (t) => {
  for (let i = 0; i < 3; i++) t.equal(routeByEra(HEADERS, call()).era, 'modern')
  t.match(routeByEra({ ...HEADERS, 'mcp-method': 'tools/list' }, call()), { era: 'reject', status: 400, error: { code: -32020 } })
  t.match(routeByEra({ ...HEADERS, 'mcp-protocol-version': '2025-11-25' }, call()), { era: 'reject', status: 400, error: { code: -32020 } })
  const other = { ...ENVELOPE, 'io.modelcontextprotocol/clientInfo': 'not an object' }
  t.match(routeByEra(HEADERS, call(other)), { era: 'reject', error: { code: -32602 } }, 'another envelope is validated anew')
  t.match(routeByEra(HEADERS, { ...call(), id: null }), { era: 'reject' }, 'and a request of another shape goes to the classifier')
})

t.test('only a plain 2026-07-28 tool call with its standard headers takes the fast path', async (t) => {
  const plain = routeByEra(HEADERS, call())
  if (plain.era !== 'modern') throw new Error('expected a modern route')
  t.same(plainModernToolCall(plain.message as any, HEADERS), call().params)
  t.same(plainModernToolCall(plain.message as any, { ...HEADERS, 'mcp-name': ' whoami\t' }), call().params, 'spaces around Mcp-Name do not count')
  t.equal(plainModernToolCall(plain.message as any, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call' }), undefined, 'no Mcp-Name: the SDK refuses it')
  t.equal(plainModernToolCall(call({ ...ENVELOPE, progressToken: 'p' }) as any, HEADERS), undefined, 'progress wanted')
  t.equal(plainModernToolCall(call(ENVELOPE, { task: {} }) as any, HEADERS), undefined, 'a task')
  t.equal(plainModernToolCall(call(ENVELOPE, { inputResponses: {} }) as any, HEADERS), undefined, 'a multi-round-trip retry')
  t.equal(plainModernToolCall({ ...call(), params: { ...call().params, name: '=?base64?d2hvYW1p?=' } } as any, { ...HEADERS, 'mcp-name': '=?base64?d2hvYW1p?=' }), undefined, 'a Base64 name')
})
