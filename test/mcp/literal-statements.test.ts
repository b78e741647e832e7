import t from 'tap'
import { backends } from '../helpers/backends.ts'
import { call, connect, ok, signUp, startMcpServer } from '../helpers/mcp.ts'

// Reads send their parameters, and the embedded database a user's every statement, as quoted
// literals: text that looks like SQL or like a placeholder must arrive as the text it is.
const AWKWARD = `it's \\' $1 '; select 1; -- \\x27 é 😀 "quoted"`

for (const backend of backends()) {
  t.test(`text that looks like SQL goes through the tools as text on ${backend.name}`, async (t) => {
    const server = await startMcpServer(backend)
    t.teardown(() => server.dispose())
    const alice = await signUp(server, 'alice@example.com')
    const client = await connect(server, alice)
    t.teardown(() => client.close())
    const org = await ok(client, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: AWKWARD, slug: 'awkward' } })
    t.equal(org.name, AWKWARD, 'created as given')
    const project = await ok(client, 'entity_tool', { operation: 'create', entity_type: 'project', data: { organization_id: org.id, name: 'Awkward', description: AWKWARD } })
    t.equal((await ok(client, 'entity_tool', { operation: 'read', entity_type: 'project', id: project.id })).description, AWKWARD, 'read back as given')
    const updated = await ok(client, 'entity_tool', { operation: 'update', entity_type: 'project', id: project.id, data: { name: AWKWARD } })
    t.equal(updated.name, AWKWARD, 'updated as given')
    const bySlug = await ok(client, 'entity_tool', { operation: 'list', entity_type: 'organization', filters: { slug: AWKWARD } })
    t.same(bySlug.items, [], 'a filter value is compared, not run')
    const found = await ok(client, 'entity_tool', { operation: 'search', entity_type: 'project', query: AWKWARD })
    t.ok(Array.isArray(found.items), 'a search query is searched for, not run')

    // A NUL cannot be written as a literal nor stored as text: a clear refusal, never an internal error.
    for (const [why, args] of [
      ['a filter', { operation: 'list', entity_type: 'organization', filters: { slug: 'a\0b' } }],
      ['a search', { operation: 'search', entity_type: 'project', query: 'a\0b' }],
      ['a created field', { operation: 'create', entity_type: 'project', data: { organization_id: org.id, name: 'a\0b' } }],
    ] as const) {
      const refused = await call(client, 'entity_tool', args)
      t.equal(refused.isError, true, `a NUL in ${why} is refused`)
      t.match(refused.text, /cannot store/, 'saying why')
    }
    const count = await server.db.query('select count(*)::int as n from atoms.organizations')
    t.equal(count.rows[0]!.n, 1, 'nothing else was created or dropped')
  })
}
