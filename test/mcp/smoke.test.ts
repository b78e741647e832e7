import t from 'tap'
import { backends } from '../helpers/backends.ts'
import { call, connect, ok, signUp, startMcpServer } from '../helpers/mcp.ts'

for (const backend of backends()) {
  t.test(`smoke on ${backend.name}`, async (t) => {
    const server = await startMcpServer(backend, { LOG_LEVEL: 'error' })
    t.teardown(() => server.dispose())
    const alice = await signUp(server, 'alice@example.com')
    const client = await connect(server, alice)
    t.teardown(() => client.close())
    const tools = await client.listTools()
    t.same(tools.tools.map((x) => x.name).sort(), ['entity_tool', 'get_api_usage', 'relationship_tool', 'whoami', 'workspace_tool'])
    const me = await ok(client, 'whoami')
    t.equal(me.id, alice.id)
    const org = await ok(client, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'Acme', slug: 'acme' } })
    t.equal(org.slug, 'acme')
    const project = await ok(client, 'entity_tool', { operation: 'create', entity_type: 'project', data: { organization_id: org.id, name: 'P' } })
    const doc = await ok(client, 'entity_tool', { operation: 'create', entity_type: 'document', data: { project_id: project.id, title: 'Hello', content: 'running systems' } })
    t.equal(doc.organization_id, org.id)
    const found = await ok(client, 'entity_tool', { operation: 'search', entity_type: 'document', query: 'run' })
    t.equal(found.items.length, 1)
    const bad = await call(client, 'entity_tool', { operation: 'read', entity_type: 'document', id: '00000000-0000-4000-8000-000000000000' })
    t.ok(bad.isError, bad.text)
  })
}
