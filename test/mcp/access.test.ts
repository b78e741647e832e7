import t from 'tap'
import { backends } from '../helpers/backends.ts'
import { aliceAndBob, call, connect, ok, signUp } from '../helpers/mcp.ts'

const MISSING = '00000000-0000-4000-8000-000000000000'
/** The text a refusal would have for an id that does not exist at all. */
const asIfMissing = (text: string, id: string) => text.replaceAll(id, MISSING)

for (const backend of backends()) {
  t.test(`row-level security through the tools on ${backend.name}`, async (t) => {
    const { server, alice, bob, a, b } = await aliceAndBob(t, backend)

    const org = await ok(a, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'Alice Inc', slug: 'alice-inc' } })
    const project = await ok(a, 'entity_tool', { operation: 'create', entity_type: 'project', data: { organization_id: org.id, name: 'Secret project' } })
    const doc = await ok(a, 'entity_tool', { operation: 'create', entity_type: 'document', data: { project_id: project.id, title: 'Launch plan', content: 'the confidential launch' } })
    const requirement = await ok(a, 'entity_tool', { operation: 'create', entity_type: 'requirement', data: { project_id: project.id, document_id: doc.id, title: 'Must launch', priority: 'high' } })
    const bobOrg = await ok(b, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'Bob Ltd', slug: 'bob-ltd' } })
    const bobProject = await ok(b, 'entity_tool', { operation: 'create', entity_type: 'project', data: { organization_id: bobOrg.id, name: 'Mine' } })
    const bobTest = await ok(b, 'entity_tool', { operation: 'create', entity_type: 'test', data: { project_id: bobProject.id, title: 'Bob test' } })

    t.test('the creator of an organization is its owner', async (t) => {
      const { organizations } = await ok(a, 'workspace_tool', { operation: 'list_organizations' })
      t.same(organizations.map((o: any) => [o.slug, o.role]), [['alice-inc', 'owner']])
    })

    t.test('B cannot read, list, search, update, delete or link A\'s entities, nor learn they exist', async (t) => {
      for (const [type, entity] of [['organization', org], ['project', project], ['document', doc], ['requirement', requirement]] as const) {
        for (const operation of ['read', 'update', 'delete'] as const) {
          const args = { operation, entity_type: type, id: entity.id, ...(operation === 'update' ? { data: { description: 'pwned' } } : {}) }
          const real = await call(b, 'entity_tool', args)
          const missing = await call(b, 'entity_tool', { ...args, id: MISSING })
          t.ok(real.isError, `${operation} ${type} is refused`)
          t.equal(asIfMissing(real.text, entity.id), missing.text, `${operation} ${type}: the refusal reads as for a missing id`)
        }
      }
      for (const type of ['organization', 'project', 'document', 'requirement']) {
        const listed = await ok(b, 'entity_tool', { operation: 'list', entity_type: type, include_deleted: true })
        t.notOk(listed.items.some((row: any) => row.organization_id === org.id || row.id === org.id), `list ${type} shows none of A's`)
      }
      const filtered = await ok(b, 'entity_tool', { operation: 'list', entity_type: 'document', filters: { project_id: project.id } })
      t.same(filtered, { items: [], next_cursor: null }, 'filtering on A\'s project yields nothing, not an error')
      const searched = await ok(b, 'entity_tool', { operation: 'search', entity_type: 'document', query: 'confidential launch' })
      t.same(searched.items, [])

      const intoA = await call(b, 'entity_tool', { operation: 'create', entity_type: 'document', data: { project_id: project.id, title: 'Sneaky' } })
      const intoMissing = await call(b, 'entity_tool', { operation: 'create', entity_type: 'document', data: { project_id: MISSING, title: 'Sneaky' } })
      t.ok(intoA.isError)
      t.equal(asIfMissing(intoA.text, project.id), intoMissing.text, 'creating in A\'s project reads as a missing project')

      const link = await call(b, 'relationship_tool', { operation: 'link', source_type: 'test', source_id: bobTest.id, target_type: 'requirement', target_id: requirement.id, kind: 'verifies' })
      const linkMissing = await call(b, 'relationship_tool', { operation: 'link', source_type: 'test', source_id: bobTest.id, target_type: 'requirement', target_id: MISSING, kind: 'verifies' })
      t.ok(link.isError)
      t.equal(asIfMissing(link.text, requirement.id), linkMissing.text)
      const links = await ok(b, 'relationship_tool', { operation: 'list', target_id: requirement.id })
      t.same(links.items, [])

      const join = await call(b, 'workspace_tool', { operation: 'add_member', organization_id: org.id, user_id: bob.id, role: 'owner' })
      const joinMissing = await call(b, 'workspace_tool', { operation: 'add_member', organization_id: MISSING, user_id: bob.id, role: 'owner' })
      t.ok(join.isError)
      t.equal(asIfMissing(join.text, org.id), joinMissing.text, 'B cannot add himself to A\'s organization')
      const context = await call(b, 'workspace_tool', { operation: 'set_context', organization_id: org.id })
      t.ok(context.isError)
      // Resource not found is -32602 on the wire (SEP-2164), in every revision.
      await t.rejects(b.readResource({ uri: `entity://document/${doc.id}` }), { code: -32602 })

      const still = await ok(a, 'entity_tool', { operation: 'read', entity_type: 'document', id: doc.id })
      t.equal(still.title, 'Launch plan', 'A\'s document is untouched')
      t.equal(still.deleted_at, null)
    })

    t.test('a viewer reads but cannot write', async (t) => {
      const invited = await ok(a, 'workspace_tool', { operation: 'add_member', organization_id: org.id, email: 'Bob@example.com', role: 'viewer' })
      t.same(invited, { organization_id: org.id, email: 'bob@example.com', role: 'viewer', created_at: invited.created_at, invited: true })
      const pending = await ok(b, 'workspace_tool', { operation: 'list_invitations' })
      t.same(pending.invitations.map((i: any) => [i.organization_id, i.role, i.invited_by]), [[org.id, 'viewer', alice.id]])
      const joined = await ok(b, 'workspace_tool', { operation: 'accept_invitation', organization_id: org.id })
      t.same(joined, { organization_id: org.id, role: 'viewer', joined: true })
      t.same((await ok(b, 'workspace_tool', { operation: 'list_invitations' })).invitations, [], 'an accepted invitation is used up')
      const read = await ok(b, 'entity_tool', { operation: 'read', entity_type: 'document', id: doc.id })
      t.equal(read.title, 'Launch plan')
      const listed = await ok(b, 'entity_tool', { operation: 'list', entity_type: 'document', filters: { project_id: project.id } })
      t.equal(listed.items.length, 1)

      const writes = [
        ['entity_tool', { operation: 'create', entity_type: 'document', data: { project_id: project.id, title: 'Viewer doc' } }],
        ['entity_tool', { operation: 'update', entity_type: 'document', id: doc.id, data: { title: 'Changed' } }],
        ['entity_tool', { operation: 'delete', entity_type: 'document', id: doc.id }],
        ['entity_tool', { operation: 'update', entity_type: 'organization', id: org.id, data: { name: 'Mine now' } }],
        ['relationship_tool', { operation: 'link', source_type: 'document', source_id: doc.id, target_type: 'requirement', target_id: requirement.id, kind: 'references' }],
        ['workspace_tool', { operation: 'add_member', organization_id: org.id, user_id: bob.id, role: 'admin' }],
      ] as const
      for (const [tool, args] of writes) {
        const outcome = await call(b, tool, args)
        t.ok(outcome.isError, `${tool} ${args.operation} is refused`)
        t.match(outcome.text, /role|owners and admins/, 'the refusal says the role is the reason')
      }
      const unchanged = await ok(a, 'entity_tool', { operation: 'read', entity_type: 'document', id: doc.id })
      t.equal(unchanged.title, 'Launch plan')
    })

    t.test('a member writes; removing a member cuts access at once', async (t) => {
      await ok(a, 'workspace_tool', { operation: 'add_member', organization_id: org.id, user_id: bob.id, role: 'member' })
      const created = await ok(b, 'entity_tool', { operation: 'create', entity_type: 'test', data: { project_id: project.id, title: 'Launch works' } })
      const linked = await ok(b, 'relationship_tool', { operation: 'link', source_type: 'test', source_id: created.id, target_type: 'requirement', target_id: requirement.id, kind: 'verifies' })
      t.equal(linked.kind, 'verifies')
      const duplicate = await call(b, 'relationship_tool', { operation: 'link', source_type: 'test', source_id: created.id, target_type: 'requirement', target_id: requirement.id, kind: 'verifies' })
      t.ok(duplicate.isError)
      t.match(duplicate.text, /already linked/)
      const crossOrg = await call(b, 'relationship_tool', { operation: 'link', source_type: 'test', source_id: bobTest.id, target_type: 'requirement', target_id: requirement.id, kind: 'verifies' })
      t.match(crossOrg.text, /same organization/)

      await ok(b, 'workspace_tool', { operation: 'set_context', project_id: project.id })
      const removed = await ok(a, 'workspace_tool', { operation: 'remove_member', organization_id: org.id, email: 'bob@example.com' })
      t.equal(removed.removed, true)

      const read = await call(b, 'entity_tool', { operation: 'read', entity_type: 'test', id: created.id })
      t.ok(read.isError, 'B no longer reads what he created there')
      const listed = await ok(b, 'entity_tool', { operation: 'list', entity_type: 'test' })
      t.same(listed.items.map((x: any) => x.id), [bobTest.id])
      const context = await ok(b, 'workspace_tool', { operation: 'get_context' })
      t.same(context, { organization: null, project: null }, 'a saved context no longer shows what B cannot see')
    })

    t.test('admins manage members, but only owners grant or take the owner role', async (t) => {
      const carol = await signUp(server, 'carol@example.com')
      const c = await connect(server, carol)
      t.teardown(() => c.close())
      await ok(a, 'workspace_tool', { operation: 'add_member', organization_id: org.id, email: 'bob@example.com', role: 'admin' })
      await ok(b, 'workspace_tool', { operation: 'accept_invitation', organization_id: org.id })
      const asOwner = await call(b, 'workspace_tool', { operation: 'add_member', organization_id: org.id, email: 'carol@example.com', role: 'owner' })
      t.ok(asOwner.isError)
      t.match(asOwner.text, /only an owner/)
      await ok(b, 'workspace_tool', { operation: 'add_member', organization_id: org.id, email: 'CAROL@example.com', role: 'member' })
      t.same(await ok(c, 'workspace_tool', { operation: 'accept_invitation', organization_id: org.id }), { organization_id: org.id, role: 'member', joined: true }, 'invited by email, whatever its case')
      const promote = await call(b, 'workspace_tool', { operation: 'add_member', organization_id: org.id, user_id: carol.id, role: 'owner' })
      t.match(promote.text, /only an owner/, 'an admin cannot make a member owner')
      t.equal((await ok(b, 'workspace_tool', { operation: 'add_member', organization_id: org.id, user_id: carol.id, role: 'viewer' })).role, 'viewer', 'but changes other roles')
      const dethrone = await call(b, 'workspace_tool', { operation: 'remove_member', organization_id: org.id, user_id: alice.id })
      t.ok(dethrone.isError)
      t.match(dethrone.text, /only an owner/)
      const stranger = await call(b, 'workspace_tool', { operation: 'add_member', organization_id: org.id, user_id: MISSING })
      t.ok(stranger.isError)
      t.match(stranger.text, /not a member of this organization; invite them by email/)
      await ok(b, 'workspace_tool', { operation: 'remove_member', organization_id: org.id, user_id: carol.id })
      await ok(a, 'workspace_tool', { operation: 'remove_member', organization_id: org.id, user_id: bob.id })
    })

    t.test('an organization keeps an owner', async (t) => {
      const self = await call(a, 'workspace_tool', { operation: 'remove_member', organization_id: org.id, user_id: alice.id })
      t.ok(self.isError)
      t.match(self.text, /at least one owner/)
    })

    t.test('soft delete keeps the row for include_deleted', async (t) => {
      const gone = await ok(a, 'entity_tool', { operation: 'delete', entity_type: 'requirement', id: requirement.id })
      t.ok(gone.deleted_at)
      const live = await ok(a, 'entity_tool', { operation: 'list', entity_type: 'requirement' })
      t.same(live.items, [])
      const all = await ok(a, 'entity_tool', { operation: 'list', entity_type: 'requirement', include_deleted: true })
      t.same(all.items.map((x: any) => x.id), [requirement.id])
      const again = await call(a, 'entity_tool', { operation: 'read', entity_type: 'requirement', id: requirement.id })
      t.ok(again.isError)
    })
  })
}
