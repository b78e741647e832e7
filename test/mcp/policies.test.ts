import t from 'tap'
import { backends } from '../helpers/backends.ts'
import { aliceAndBob, ok, signUp, type TestUser } from '../helpers/mcp.ts'
import { sqlAs, type SqlAs } from '../helpers/sql-as.ts'

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

    const as = (user: TestUser) => sqlAs(server.db, user)
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
    t.test('finding 5: no email lookups and no memberships without consent in SQL', async (t) => {
      t.equal((await server.db.query("select to_regprocedure('atoms.find_user_for_organization(uuid, text)') as f")).rows[0]!.f, null, 'no email lookup for any organization creator')
      t.equal((await asBob('select atoms.member_with_email($1, $2) as id', [bobOrg.id, 'alice@example.com'])).rows[0]!.id, null, 'an email names only members of an organization one manages')
      t.equal((await asAlice('select atoms.member_with_email($1, $2) as id', [bobOrg.id, 'bob@example.com'])).rows[0]!.id, null, 'and only to its managers')
      await t.rejects(asBob("insert into atoms.organization_members (organization_id, user_id, role) values ($1, $2, 'viewer')", [bobOrg.id, alice.id]), { code: '42501' }, 'nobody is added without accepting, even by an owner')
    })

    t.test('finding 6: the policies hold as authenticated in plain SQL, as PostgREST would send it', async (t) => {
      // Setup as the database owner, the same on every version of the policies.
      const member = (orgId: string, user: TestUser, role: string) =>
        server.db.query('insert into atoms.organization_members (organization_id, user_id, role) values ($1, $2, $3)', [orgId, user.id, role])
      const roleIn = async (orgId: string, user: TestUser) =>
        (await server.db.query('select role from atoms.organization_members where organization_id = $1 and user_id = $2', [orgId, user.id])).rows[0]?.role ?? null

      t.test('an admin of one organization cannot move its owners into one he owns', async (t) => {
        await member(org.id, bob, 'admin')
        t.teardown(() => server.db.query('delete from atoms.organization_members where organization_id = $1 and user_id = $2', [org.id, bob.id]))
        // Refused or turned into a no-op: either way nothing moves.
        await asBob("update atoms.organization_members set organization_id = $2 where organization_id = $1 and role = 'owner'", [org.id, bobOrg.id]).catch(() => {})
        t.equal(await roleIn(org.id, alice), 'owner', 'Alice still owns her organization')
        t.equal(await roleIn(bobOrg.id, alice), null, 'and was not moved into Bob\'s')
        await asBob('update atoms.organization_members set user_id = $2 where organization_id = $1 and user_id = $3', [org.id, bob.id, alice.id]).catch(() => {})
        t.equal(await roleIn(org.id, alice), 'owner', 'nor can a row be handed to another user')
      })

      t.test('a requirement cannot point at another tenant\'s document, and errors do not tell whether one exists', async (t) => {
        const bobReq = (await asBob("insert into atoms.requirements (project_id, title) values ($1, 'BR') returning id", [bobProject.id])).rows[0]!.id
        const moved = await asBob('update atoms.requirements set project_id = $2, document_id = $3 where id = $1', [bobReq, project.id, doc.id]).then(
          () => 'changed',
          (error) => error.code,
        )
        t.equal(moved, 'P0002', 'the document is judged in the project the row keeps')
        const row = (await server.db.query('select project_id, document_id from atoms.requirements where id = $1', [bobReq])).rows[0]!
        t.same(row, { project_id: bobProject.id, document_id: null })

        const MISSING = '00000000-0000-4000-8000-000000000000'
        const attempt = (projectId: string, documentId: string | null) =>
          asBob("insert into atoms.requirements (project_id, document_id, title) values ($1, $2, 'x')", [projectId, documentId]).then(
            () => 'inserted',
            (error) => `${error.code} ${error.message}`,
          )
        const refusals = [await attempt(project.id, doc.id), await attempt(project.id, MISSING), await attempt(project.id, null), await attempt(MISSING, null)]
        t.same(refusals, Array(4).fill('P0002 project not found'), 'another tenant\'s project and document read as missing ones')
        for (const table of ['documents', 'tests']) {
          t.equal(
            await asBob(`insert into atoms.${table} (project_id, title) values ($1, 'x')`, [project.id]).then(() => 'inserted', (error) => error.code),
            'P0002',
            `${table} too`,
          )
        }
      })

      t.test('entity_organization answers nothing about what the caller cannot read', async (t) => {
        for (const [type, id] of [['organization', org.id], ['project', project.id], ['document', doc.id], ['requirement', req.id]]) {
          t.equal((await asBob('select atoms.entity_organization($1, $2) as org', [type, id])).rows[0]!.org, null, type)
        }
        t.equal((await asAlice('select atoms.entity_organization($1, $2) as org', ['document', doc.id])).rows[0]!.org, org.id, 'it still answers for one\'s own')
      })

      t.test('an owner invitation makes its invitee owner once, whichever statement takes it up', async (t) => {
        await member(org.id, bob, 'admin')
        t.teardown(() => server.db.query('delete from atoms.organization_members where organization_id = $1 and user_id = $2', [org.id, bob.id]))
        await asAlice("insert into atoms.invitations (organization_id, email, role) values ($1, $2, 'owner')", [org.id, bob.email])
        const promote = () => asBob("update atoms.organization_members set role = 'owner' where organization_id = $1 and user_id = $2", [org.id, bob.id])
        await promote()
        t.equal(await roleIn(org.id, bob), 'owner', 'an admin invited as owner takes the role up with a plain update')
        const left = await server.db.query('select count(*)::int as n from atoms.invitations where organization_id = $1', [org.id])
        t.equal(left.rows[0]!.n, 0, 'which uses the invitation up')
        await asAlice("update atoms.organization_members set role = 'admin' where organization_id = $1 and user_id = $2", [org.id, bob.id])
        await t.rejects(promote(), { code: '42501' }, 'so once demoted he cannot take the role back with it')
        t.equal(await roleIn(org.id, bob), 'admin')
      })

      t.test('an invitation goes with its inviter\'s right to make it, so a manager about to be removed cannot leave one behind', async (t) => {
        const carol = await signUp(server, 'carol@example.com')
        const asCarol = as(carol)
        const accept = () => asCarol('select atoms.accept_invitation($1) as role', [org.id]).then((result) => result.rows[0]!.role, (error) => error.code)
        const pending = async () => (await server.db.query('select email, role from atoms.invitations where organization_id = $1 order by email', [org.id])).rows
        const invite = (as: SqlAs, role: string) => as('insert into atoms.invitations (organization_id, email, role) values ($1, $2, $3)', [org.id, carol.email, role])
        const remove = (user: TestUser) => server.db.query('delete from atoms.organization_members where organization_id = $1 and user_id = $2', [org.id, user.id])
        t.teardown(async () => {
          await remove(bob)
          await remove(carol)
        })

        await member(org.id, bob, 'admin')
        await invite(asBob, 'admin')
        await asAlice('delete from atoms.organization_members where organization_id = $1 and user_id = $2', [org.id, bob.id])
        t.same(await pending(), [], 'removing an admin withdraws his invitations')
        t.equal(await accept(), 'P0002', 'so his second account cannot bring him back')

        await member(org.id, bob, 'admin')
        await invite(asBob, 'member')
        await asAlice("update atoms.organization_members set role = 'viewer' where organization_id = $1 and user_id = $2", [org.id, bob.id])
        t.same(await pending(), [], 'and so does demoting him below admin')
        await remove(bob)

        await member(org.id, bob, 'owner')
        await invite(asBob, 'owner')
        await asAlice("update atoms.organization_members set role = 'admin' where organization_id = $1 and user_id = $2", [org.id, bob.id])
        t.same(await pending(), [], 'an owner demoted to admin loses his owner invitations')
        await invite(asBob, 'member')
        await asAlice("update atoms.organization_members set role = 'admin' where organization_id = $1 and user_id = $2", [org.id, bob.id])
        t.same(await pending(), [{ email: carol.email, role: 'member' }], 'while an admin keeps the invitations an admin may make')
        t.equal(await accept(), 'member', 'and they are accepted as before')
      })

      t.test('created_by names whoever made the row', async (t) => {
        await asAlice('update atoms.organization_members set created_by = $3 where organization_id = $1 and user_id = $2', [org.id, alice.id, bob.id])
        t.equal((await server.db.query('select created_by from atoms.organization_members where organization_id = $1 and user_id = $2', [org.id, alice.id])).rows[0]!.created_by, alice.id, 'a membership keeps its creator')
        const made = await asAlice("insert into atoms.projects (organization_id, name, created_by) values ($1, 'forged', $2) returning created_by", [org.id, bob.id])
        t.equal(made.rows[0]!.created_by, alice.id, 'a new row records its real creator')
        const invited = await asAlice("insert into atoms.invitations (organization_id, email, role, created_by) values ($1, 'forged@example.com', 'viewer', $2) returning created_by", [org.id, bob.id])
        t.equal(invited.rows[0]!.created_by, alice.id, 'an invitation names its real inviter')
        const changed = await asAlice("update atoms.invitations set created_by = $2 where organization_id = $1 and email = 'forged@example.com' returning created_by", [org.id, bob.id])
        t.same(changed.rows.map((row) => row.created_by), [alice.id], 'even when changed')
      })

      t.test('a saved context cannot probe which ids exist', async (t) => {
        const MISSING = '00000000-0000-4000-8000-000000000000'
        const save = (column: string, id: string) =>
          asBob(`insert into atoms.user_contexts (${column}) values ($1) on conflict (user_id) do update set ${column} = excluded.${column}`, [id]).then(
            () => 'saved',
            (error) => error.code,
          )
        t.same([await save('organization_id', org.id), await save('organization_id', MISSING)], ['42501', '42501'])
        t.same([await save('project_id', project.id), await save('project_id', MISSING)], ['42501', '42501'])
      })
    })
  })
}
