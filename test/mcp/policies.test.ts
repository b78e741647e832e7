import t from 'tap'
import type { UserContext } from '../../src/auth/user-context.ts'
import { asUser } from '../../src/db/as-user.ts'
import { backends } from '../helpers/backends.ts'
import { aliceAndBob, ok } from '../helpers/mcp.ts'

/**
 * The policies hold for any statement a signed-in user could send (through PostgREST on a
 * Supabase project, say), not only for the ones the tools build.
 */
for (const backend of backends()) {
  t.test(`policies against direct statements on ${backend.name}`, async (t) => {
    const { server, alice, bob, a, b } = await aliceAndBob(t, backend)
    const org = await ok(a, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'A', slug: 'a-org' } })
    const project = await ok(a, 'entity_tool', { operation: 'create', entity_type: 'project', data: { organization_id: org.id, name: 'P' } })
    const doc = await ok(a, 'entity_tool', { operation: 'create', entity_type: 'document', data: { project_id: project.id, title: 'D' } })
    const req = await ok(a, 'entity_tool', { operation: 'create', entity_type: 'requirement', data: { project_id: project.id, title: 'R' } })
    const link = await ok(a, 'relationship_tool', { operation: 'link', source_type: 'document', source_id: doc.id, target_type: 'requirement', target_id: req.id, kind: 'references' })
    const bobOrg = await ok(b, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'B', slug: 'b-org' } })
    const bobProject = await ok(b, 'entity_tool', { operation: 'create', entity_type: 'project', data: { organization_id: bobOrg.id, name: 'BP' } })

    const contextOf = (user: { id: string; token: string }): UserContext => ({
      userId: user.id, email: undefined, role: 'authenticated', sessionId: undefined, aal: 'aal1', claims: { sub: user.id },
      accessToken: user.token, expiresAt: Math.floor(Date.now() / 1000) + 600, scopes: [], mode: 'jwt',
    })
    const as = (user: { id: string; token: string }) => (sql: string, params: unknown[] = []) =>
      asUser(server.db, contextOf(user), (tx) => tx.query(sql, params))
    const asBob = as(bob)
    const asAlice = as(alice)

    t.equal((await asBob('select count(*)::int as n from atoms.documents')).rows[0]!.n, 0, 'counts see only what may be seen')
    t.equal((await asBob('select count(*)::int as n from atoms.organization_members where organization_id = $1', [org.id])).rows[0]!.n, 0)
    t.equal((await asBob("update atoms.documents set title = 'x' where id = $1", [doc.id])).rowCount, 0)
    await t.rejects(asBob('delete from atoms.documents where id = $1', [doc.id]), { code: '42501' }, 'no one hard-deletes')
    await t.rejects(asBob("insert into atoms.organization_members (organization_id, user_id, role) values ($1, $2, 'owner')", [org.id, bob.id]), { code: '42501' })
    await t.rejects(asBob("insert into atoms.organizations (name, slug, created_by) values ('x', 'x-org', $1)", [alice.id]), { code: '42501' }, 'no organization in another user\'s name')

    await asAlice('update atoms.projects set organization_id = $2 where id = $1', [project.id, bobOrg.id])
    t.equal((await asAlice('select organization_id from atoms.projects where id = $1', [project.id])).rows[0]!.organization_id, org.id, 'a project cannot move to another organization')
    await asAlice('update atoms.documents set project_id = $2 where id = $1', [doc.id, bobProject.id])
    t.equal((await asAlice('select project_id from atoms.documents where id = $1', [doc.id])).rows[0]!.project_id, project.id, 'nor a document to another project')
    await asAlice('update atoms.relationships set target_id = $2 where id = $1', [link.id, bobProject.id])
    t.equal((await asAlice('select target_id from atoms.relationships where id = $1', [link.id])).rows[0]!.target_id, req.id, 'nor a link to other ends')
    const lookup = await asBob('select atoms.find_user_for_organization($1, $2) as id', [org.id, 'alice@example.com'])
    t.equal(lookup.rows[0]!.id, null, 'no email lookups outside the organizations one manages')
    const own = await asAlice('select atoms.find_user_for_organization($1, $2) as id', [org.id, 'bob@example.com'])
    t.equal(own.rows[0]!.id, bob.id)
  })
}
