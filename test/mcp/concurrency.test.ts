import t from 'tap'
import { backends } from '../helpers/backends.ts'
import { postMcp, signUp, startMcpServer } from '../helpers/mcp.ts'

// One MCP server answers every request: concurrent callers using the same JSON-RPC ids must
// each get their own answer, computed with their own identity.
for (const backend of backends()) {
  t.test(`concurrent callers never see each other's answers on ${backend.name}`, async (t) => {
    const server = await startMcpServer(backend)
    t.teardown(() => server.dispose())
    const users = await Promise.all(['ann', 'ben', 'cat'].map((name) => signUp(server, `${name}@example.com`)))
    const call = (id: number, name: string, args: Record<string, unknown>) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } })
    for (const [i, user] of users.entries()) {
      const created = await postMcp(server, call(1, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: user.email, slug: `org-${i}` } }), { authorization: `Bearer ${user.token}` })
      t.equal(created.status, 200)
    }
    const answers = await Promise.all(
      Array.from({ length: 120 }, async (_, i) => {
        const user = users[i % users.length]!
        const request = i % 2 ? call(7, 'whoami', {}) : call(7, 'entity_tool', { operation: 'list', entity_type: 'organization' })
        return { i, user, response: await postMcp(server, request, { authorization: `Bearer ${user.token}` }) }
      }),
    )
    let mismatches = 0
    for (const { i, user, response } of answers) {
      const value = JSON.parse(response.json.result.content[0].text)
      const mine = i % 2 ? value.id === user.id : value.items.length === 1 && value.items[0].created_by === user.id
      if (!mine || response.json.id !== 7) mismatches++
    }
    t.equal(mismatches, 0, '120 interleaved calls, each answered for its own caller under its own id')
  })
}
