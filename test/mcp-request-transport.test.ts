import t from 'tap'
import { z } from 'zod'
import { McpServer } from '@modelcontextprotocol/server'
import { RequestTransport } from '../src/mcp/request-transport.ts'

async function connected() {
  const server = new McpServer({ name: 'test', version: '1.0.0' }, { capabilities: { logging: {} } })
  server.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text }, ctx) => {
    await ctx.mcpReq.notify({ method: 'notifications/message', params: { level: 'info', data: `echoing ${text}` } })
    // Let concurrent calls interleave, so id clashes would show.
    await new Promise((r) => setTimeout(r, Math.random() * 5))
    return { content: [{ type: 'text', text: `${text} for ${String(ctx.http?.authInfo?.extra?.who)}` }] }
  })
  server.registerTool('ask', {}, async (ctx) => {
    const answer = await ctx.mcpReq.send({ method: 'roots/list' }).then(() => 'answered', (error: Error) => error.message)
    return { content: [{ type: 'text', text: answer }] }
  })
  const transport = new RequestTransport()
  await server.connect(transport)
  return { server, transport }
}

const call = (id: number, name: string, args: Record<string, unknown> = {}) =>
  ({ jsonrpc: '2.0' as const, id, method: 'tools/call', params: { name, arguments: args } })
const auth = (who: string) => ({ authInfo: { token: 't', clientId: 'c', scopes: [], extra: { who } } })

t.test('concurrent requests with the same id each get their own reply', async (t) => {
  const { transport, server } = await connected()
  t.teardown(() => server.close())
  const replies = await Promise.all(
    Array.from({ length: 50 }, (_, i) => transport.request(call(0, 'echo', { text: `n${i}` }), auth(`user${i}`))),
  )
  replies.forEach((reply: any, i) => {
    t.equal(reply.id, 0, 'the client id is restored')
    t.equal(reply.result.content[0].text, `n${i} for user${i}`, 'the reply and the auth info belong to that request')
  })
})

t.test('notifications tied to a request reach that request only', async (t) => {
  const { transport, server } = await connected()
  t.teardown(() => server.close())
  const seen: string[] = []
  await transport.request(call(7, 'echo', { text: 'a' }), auth('x'), (n: any) => seen.push(n.params.data))
  t.same(seen, ['echoing a'])
})

t.test('invalid arguments and unknown methods come back as JSON-RPC answers', async (t) => {
  const { transport, server } = await connected()
  t.teardown(() => server.close())
  const invalid: any = await transport.request(call(1, 'echo', { text: 42 }), auth('x'))
  t.ok(invalid.result?.isError || invalid.error, 'a schema violation is reported, not thrown')
  const unknown: any = await transport.request({ jsonrpc: '2.0', id: 2, method: 'no/such' }, auth('x'))
  t.equal(unknown.error.code, -32601)
})

t.test('a server request needing a session fails at once instead of hanging', async (t) => {
  const { transport, server } = await connected()
  t.teardown(() => server.close())
  const reply: any = await transport.request(call(3, 'ask'), auth('x'))
  t.match(reply.result.content[0].text, /needs a session/)
})
