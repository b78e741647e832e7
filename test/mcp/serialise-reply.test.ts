import t from 'tap'
import { serialiseReply, toolResult } from '../../src/mcp/mcp-server.ts'

// The reply of a tool call is written without serialising its value twice; what goes out must
// still be exactly what JSON.stringify writes.
t.test('serialiseReply writes what JSON.stringify writes', async (t) => {
  const awkward = {
    items: [
      { id: 'a', title: 'quotes " and \\ backslashes', content: 'line\nbreak\ttab\u0001\u2028\u2029 é 😀 \ud800 lone', n: 1.5, ok: true, none: null, at: new Date(0) },
    ],
    next_cursor: null,
    nested: { deep: [1, 'two', { three: 3 }] },
  }
  const values: unknown[] = [awkward, {}, [], [1, 2], 'text', 42, null, { toJSON: () => ({ replaced: true }) }]
  for (const value of values) {
    for (const id of [1, 'id "quoted"', 0]) {
      const message = { result: toolResult(value), jsonrpc: '2.0', id }
      t.equal(serialiseReply(message), JSON.stringify(message), `${JSON.stringify(value)?.slice(0, 40)} with id ${JSON.stringify(id)}`)
    }
  }
  const error = { jsonrpc: '2.0', id: 3, error: { code: -32602, message: 'bad' } }
  t.equal(serialiseReply(error), JSON.stringify(error), 'an error reply')
  const refusal = { result: { content: [{ type: 'text', text: 'not found' }], isError: true }, jsonrpc: '2.0', id: 4 }
  t.equal(serialiseReply(refusal), JSON.stringify(refusal), 'a refusal')
  const changed = toolResult({ a: 1 }) as any
  changed.extra = true
  t.equal(serialiseReply({ result: changed, jsonrpc: '2.0', id: 5 }), JSON.stringify({ result: changed, jsonrpc: '2.0', id: 5 }), 'a result of another shape is serialised whole')
  const reordered = { jsonrpc: '2.0', id: 6, result: toolResult({ a: 1 }) }
  t.equal(serialiseReply(reordered), JSON.stringify(reordered), 'and so is a message in another key order')
})
