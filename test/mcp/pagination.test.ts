import t from 'tap'
import { backends } from '../helpers/backends.ts'
import { call, connect, ok, signUp, startMcpServer } from '../helpers/mcp.ts'

for (const backend of backends()) {
  t.test(`a 1,000-entity project lists in pages and searches on ${backend.name}`, async (t) => {
    const server = await startMcpServer(backend)
    t.teardown(() => server.dispose())
    const alice = await signUp(server, 'alice@example.com')
    const client = await connect(server, alice)
    t.teardown(() => client.close())
    const org = await ok(client, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'Big', slug: 'big' } })
    const project = await ok(client, 'entity_tool', { operation: 'create', entity_type: 'project', data: { organization_id: org.id, name: 'Big project' } })

    // One statement: every row gets the same created_at, so the order rests on the id tiebreak.
    await server.db.query(
      `insert into atoms.requirements (project_id, title, description, created_by)
       select $1, 'Requirement ' || i, case when i % 100 = 0 then 'the zebra crossing must be painted' else 'plain words' end, $2
       from generate_series(1, 1000) as i`,
      [project.id, alice.id],
    )

    const pageThrough = async (limit: number) => {
      const ids: string[] = []
      let cursor: string | undefined
      let pages = 0
      do {
        const page = await ok(client, 'entity_tool', { operation: 'list', entity_type: 'requirement', filters: { project_id: project.id }, limit, ...(cursor ? { cursor } : {}) })
        t.ok(page.items.length <= limit)
        ids.push(...page.items.map((row: any) => row.id))
        cursor = page.next_cursor ?? undefined
        pages++
      } while (cursor && pages < 100)
      return { ids, pages }
    }

    const first = await pageThrough(100)
    t.equal(first.pages, 10)
    t.equal(first.ids.length, 1000)
    t.equal(new Set(first.ids).size, 1000, 'no row twice')
    t.same(first.ids, [...first.ids].sort(), 'ordered by id within one creation instant')
    const second = await pageThrough(137)
    t.same(second.ids, first.ids, 'the same order whatever the page size')

    const page1 = await ok(client, 'entity_tool', { operation: 'list', entity_type: 'requirement', limit: 50 })
    const added = await ok(client, 'entity_tool', { operation: 'create', entity_type: 'requirement', data: { project_id: project.id, title: 'Late arrival' } })
    const page2 = await ok(client, 'entity_tool', { operation: 'list', entity_type: 'requirement', limit: 50, cursor: page1.next_cursor })
    t.same(page2.items.map((r: any) => r.id), first.ids.slice(50, 100), 'a row created meanwhile does not shift the next page')
    const third = await pageThrough(200)
    t.equal(third.ids.at(-1), added.id, 'it comes last')

    const bad = await call(client, 'entity_tool', { operation: 'list', entity_type: 'requirement', cursor: 'not-a-cursor' })
    t.ok(bad.isError)
    t.match(bad.text, /cursor is not valid/)

    const zebra = await ok(client, 'entity_tool', { operation: 'search', entity_type: 'requirement', query: 'zebra', limit: 200 })
    t.equal(zebra.items.length, 10, 'found by a word of the description')
    const byTitle = await ok(client, 'entity_tool', { operation: 'search', entity_type: 'requirement', query: 'arrivals' })
    t.same(byTitle.items.map((r: any) => r.id), [added.id], 'found by a word of the title, stemmed')
    const doc = await ok(client, 'entity_tool', { operation: 'create', entity_type: 'document', data: { project_id: project.id, title: 'Roadmap', content: '# Goals\n\nShip the **quarterly** release.' } })
    const inContent = await ok(client, 'entity_tool', { operation: 'search', entity_type: 'document', query: 'quarterly release' })
    t.same(inContent.items.map((d: any) => d.id), [doc.id], 'found by words of the markdown content')
    const none = await ok(client, 'entity_tool', { operation: 'search', entity_type: 'document', query: 'zebra' })
    t.same(none.items, [])
  })
}
