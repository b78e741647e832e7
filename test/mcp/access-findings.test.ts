import t from 'tap'
import { setTimeout as pause } from 'node:timers/promises'
import { asUser } from '../../src/db/as-user.ts'
import { listMigrations, migrate } from '../../src/db/migrate.ts'
import { backends } from '../helpers/backends.ts'
import { aliceAndBob, call, connect, ok, signUp, startMcpServer, type TestUser } from '../helpers/mcp.ts'
import { contextOf, sqlAs } from '../helpers/sql-as.ts'
import { ownRedisDb } from '../helpers/redis.ts'

/** Regression tests of the access findings, each named after the finding it covers. */
for (const backend of backends()) {
  t.test(`access findings on ${backend.name}`, async (t) => {
    const { server, alice, bob, a, b } = await aliceAndBob(t, backend)
    const erin = await signUp(server, 'erin@example.com')
    const e = await connect(server, erin)
    t.teardown(() => e.close())
    const asAlice = sqlAs(server.db, alice)
    const asBob = sqlAs(server.db, bob)
    let slug = 0
    const newOrganization = () => ok(a, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'Org', slug: `org-${++slug}` } })
    // Set up as the database owner, which works the same before and after the fixes.
    const setRole = (orgId: string, user: TestUser, role: string) =>
      server.db.query(
        `insert into atoms.organization_members (organization_id, user_id, role) values ($1, $2, $3)
        on conflict (organization_id, user_id) do update set role = excluded.role`,
        [orgId, user.id, role],
      )
    const roleIn = async (orgId: string, user: TestUser) =>
      (await server.db.query('select role from atoms.organization_members where organization_id = $1 and user_id = $2', [orgId, user.id])).rows[0]?.role ?? null

    t.test('finding 1: a creator who was demoted cannot make themselves owner again', async (t) => {
      const org = await newOrganization()
      await setRole(org.id, bob, 'owner')
      await ok(b, 'workspace_tool', { operation: 'add_member', organization_id: org.id, user_id: alice.id, role: 'admin' })
      t.equal(await roleIn(org.id, alice), 'admin', 'B demoted A')

      const self = await call(a, 'workspace_tool', { operation: 'add_member', organization_id: org.id, user_id: alice.id, role: 'owner' })
      t.match(self.text, /only an owner/, 'A cannot promote herself')
      const proxy = await call(a, 'workspace_tool', { operation: 'add_member', organization_id: org.id, email: erin.email, role: 'owner' })
      t.ok(proxy.isError, 'nor make a second account owner')
      t.match(proxy.text, /only an owner/)
      await t.rejects(asAlice("insert into atoms.organization_members (organization_id, user_id, role) values ($1, $2, 'owner')", [org.id, erin.id]), { code: '42501' }, 'nor in SQL')
      await t.rejects(asAlice("update atoms.organization_members set role = 'owner' where organization_id = $1 and user_id = $2", [org.id, alice.id]), { code: '42501' })
      await t.rejects(asAlice("insert into atoms.invitations (organization_id, email, role) values ($1, $2, 'owner')", [org.id, erin.email]), { code: '42501' })
      const dethrone = await call(a, 'workspace_tool', { operation: 'remove_member', organization_id: org.id, user_id: bob.id })
      t.match(dethrone.text, /only an owner/)
      t.same([await roleIn(org.id, alice), await roleIn(org.id, bob), await roleIn(org.id, erin)], ['admin', 'owner', null])

      await ok(b, 'workspace_tool', { operation: 'add_member', organization_id: org.id, email: erin.email, role: 'owner' })
      t.same(await ok(e, 'workspace_tool', { operation: 'accept_invitation', organization_id: org.id }), { organization_id: org.id, role: 'owner', joined: true }, 'an owner still makes owners')

      const second = await newOrganization()
      await ok(a, 'workspace_tool', { operation: 'add_member', organization_id: second.id, email: erin.email, role: 'owner' })
      await setRole(second.id, bob, 'owner')
      await ok(b, 'workspace_tool', { operation: 'add_member', organization_id: second.id, user_id: alice.id, role: 'admin' })
      const stale = await call(e, 'workspace_tool', { operation: 'accept_invitation', organization_id: second.id })
      t.match(stale.text, /invitation not found/, 'an owner invitation made before its inviter was demoted went with the demotion')
      t.equal(await roleIn(second.id, erin), null)
    })

    t.test('finding 2: a deleted organization grants nothing, and only an owner deletes one', async (t) => {
      const org = await newOrganization()
      const project = await ok(a, 'entity_tool', { operation: 'create', entity_type: 'project', data: { organization_id: org.id, name: 'P' } })
      const doc = await ok(a, 'entity_tool', { operation: 'create', entity_type: 'document', data: { project_id: project.id, title: 'D' } })
      await setRole(org.id, bob, 'admin')

      const byAdmin = await call(b, 'entity_tool', { operation: 'delete', entity_type: 'organization', id: org.id })
      t.match(byAdmin.text, /only an owner can delete an organization/, 'an admin about to be removed cannot delete it first')
      t.equal((await asBob('update atoms.organizations set deleted_at = now() where id = $1', [org.id]).catch((error) => error)).code, '42501', 'nor in SQL')
      const deleted = await ok(a, 'entity_tool', { operation: 'delete', entity_type: 'organization', id: org.id })
      t.ok(deleted.deleted_at, 'the owner deletes it and reads the deletion back')

      for (const [client, who] of [[a, 'the owner'], [b, 'the admin']] as const) {
        for (const [type, id] of [['project', project.id], ['document', doc.id]]) {
          t.ok((await call(client, 'entity_tool', { operation: 'read', entity_type: type, id })).isError, `${who} no longer reads its ${type}`)
          t.ok((await call(client, 'entity_tool', { operation: 'update', entity_type: type, id, data: type === 'project' ? { name: 'x' } : { title: 'x' } })).isError, 'nor changes it')
        }
        t.same((await ok(client, 'entity_tool', { operation: 'list', entity_type: 'document' })).items, [], `${who} lists none of its documents`)
        t.ok((await call(client, 'entity_tool', { operation: 'create', entity_type: 'document', data: { project_id: project.id, title: 'new' } })).isError, `${who} creates nothing in it`)
        t.ok((await call(client, 'entity_tool', { operation: 'create', entity_type: 'project', data: { organization_id: org.id, name: 'new' } })).isError)
      }
      t.equal((await asBob('select count(*)::int as n from atoms.documents where organization_id = $1', [org.id])).rows[0]!.n, 0, 'in SQL neither')
      await t.rejects(asBob("insert into atoms.projects (organization_id, name) values ($1, 'new')", [org.id]), { code: '42501' })
      t.equal((await asBob('update atoms.organizations set deleted_at = null where id = $1', [org.id]).catch((error) => error)).rowCount ?? 0, 0, 'an admin cannot bring it back')
      const { organizations } = await ok(b, 'workspace_tool', { operation: 'list_organizations' })
      t.notOk(organizations.some((o: any) => o.id === org.id))
    })

    t.test('finding 4: two owners removing each other at once leave the organization an owner', async (t) => {
      const removals = []
      const orgs = []
      for (let i = 0; i < 8; i++) {
        const org = await newOrganization()
        await setRole(org.id, bob, 'owner')
        orgs.push(org.id)
        removals.push(
          asAlice('delete from atoms.organization_members where organization_id = $1 and user_id = $2', [org.id, bob.id]).catch(() => {}),
          asBob('delete from atoms.organization_members where organization_id = $1 and user_id = $2', [org.id, alice.id]).catch(() => {}),
        )
      }
      await Promise.all(removals)
      const owners = await server.db.query("select organization_id, count(*)::int as n from atoms.organization_members where organization_id = any($1::uuid[]) and role = 'owner' group by organization_id", [orgs])
      t.equal(owners.rows.length, orgs.length, 'every organization still has an owner')

      if (backend.name !== 'postgres') return
      // The decisive interleaving: the first removal is made but not committed when the second runs.
      const org = await newOrganization()
      await setRole(org.id, bob, 'owner')
      let second: Promise<string> | undefined
      await asUser(server.db, contextOf(alice), async (tx) => {
        await tx.query('delete from atoms.organization_members where organization_id = $1 and user_id = $2', [org.id, bob.id])
        second = asBob('delete from atoms.organization_members where organization_id = $1 and user_id = $2', [org.id, alice.id]).then(
          () => 'removed',
          (error) => error.message,
        )
        let settled = false
        void second.finally(() => (settled = true))
        for (;;) {
          await pause(10)
          if (settled) break
          const waiting = await server.db.query("select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'")
          if (waiting.rows[0]!.n > 0) break
        }
      })
      t.equal(await second, 'an organization keeps at least one owner', 'the second removal counts the owners after the first')
      t.same([await roleIn(org.id, alice), await roleIn(org.id, bob)], ['owner', null])
    })

    t.test('finding 5: adding by email tells nothing about who is registered and adds no one without consent', async (t) => {
      const org = await newOrganization()
      const registered = await ok(a, 'workspace_tool', { operation: 'add_member', organization_id: org.id, email: bob.email, role: 'member' })
      const unknown = await ok(a, 'workspace_tool', { operation: 'add_member', organization_id: org.id, email: 'nobody@example.com', role: 'member' })
      const shape = (answer: any) => ({ ...answer, email: undefined, created_at: typeof answer.created_at })
      t.same(shape(registered), shape(unknown), 'the same answer for a registered and an unknown address')
      t.notOk('user_id' in registered, 'and no user id')
      t.equal(await roleIn(org.id, bob), null, 'nobody joins until they accept')
      t.ok((await call(b, 'entity_tool', { operation: 'read', entity_type: 'organization', id: org.id })).isError)

      const withdrawn = [
        await ok(a, 'workspace_tool', { operation: 'remove_member', organization_id: org.id, email: bob.email }),
        await ok(a, 'workspace_tool', { operation: 'remove_member', organization_id: org.id, email: 'nobody@example.com' }),
      ]
      t.same(withdrawn.map((answer) => ({ ...answer, email: undefined })), Array(2).fill({ organization_id: org.id, email: undefined, removed: true, invitation_withdrawn: true }))
      const again = [
        await call(a, 'workspace_tool', { operation: 'remove_member', organization_id: org.id, email: bob.email }),
        await call(a, 'workspace_tool', { operation: 'remove_member', organization_id: org.id, email: 'nobody@example.com' }),
      ]
      t.ok(again.every((outcome) => outcome.isError))
      t.equal(again[0]!.text.replace(bob.email, 'X'), again[1]!.text.replace('nobody@example.com', 'X'), 'removing an address that is not there reads the same either way')

      await ok(a, 'workspace_tool', { operation: 'add_member', organization_id: org.id, email: bob.email, role: 'viewer' })
      t.same(await ok(b, 'workspace_tool', { operation: 'decline_invitation', organization_id: org.id }), { organization_id: org.id, declined: true })
      const late = await call(b, 'workspace_tool', { operation: 'accept_invitation', organization_id: org.id })
      t.match(late.text, /invitation not found/, 'a declined invitation cannot be accepted')
      t.equal(await roleIn(org.id, bob), null)
      const foreign = await call(e, 'workspace_tool', { operation: 'accept_invitation', organization_id: org.id })
      t.ok(foreign.isError, 'nor one addressed to someone else')
    })

    t.test('finding 7: filters naming Object.prototype properties are refused as unknown filters, never a 500', async (t) => {
      const url = `${server.config.baseUrl}/api/mcp/tools/call`
      const post = (body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` }, body })
      for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__']) {
        const body = `{"tool":"entity_tool","arguments":{"operation":"list","entity_type":"document","filters":{${JSON.stringify(name)}:"x"}}}`
        const response = await post(body)
        t.equal(response.status, 400, `REST: filters.${name}`)
        await response.arrayBuffer()
        if (name === '__proto__') continue
        const outcome = await call(a, 'entity_tool', { operation: 'list', entity_type: 'document', filters: { [name]: 'x' } })
        t.ok(outcome.isError, `MCP: filters.${name} is a tool error, not -32603`)
        t.match(outcome.text, new RegExp(`filters\\.${name} is not a filter here`))
      }
    })
  })

  t.test(`finding 8: a token of another role than authenticated is refused, not widened, on ${backend.name}`, async (t) => {
    const store = await backend.create()
    t.teardown(() => store.dispose())
    await migrate(store.db)
    const user = { id: '7c9e6679-7425-40de-944b-e07fc1f0b0c1', email: 'restricted@example.com', token: '' }
    for (const role of ['support_readonly', 'service_role', 'anon']) {
      await t.rejects(asUser(store.db, { ...contextOf(user), role }, (tx) => tx.query('select 1')), { name: 'EntityError', kind: 'forbidden', message: /this token has role/ }, role)
    }
    t.same((await asUser(store.db, contextOf(user), (tx) => tx.query('select 1 as one'))).rows, [{ one: 1 }], 'authenticated is served')
  })

  t.test(`finding 8: past USAGE_LIMIT_PER_MINUTE a user's calls are refused with Retry-After, on ${backend.name}`, async (t) => {
    const limit = 3
    const redisUrl = ownRedisDb(process.env.TEST_REDIS_URL, 3)
    const server = await startMcpServer(backend, { USAGE_LIMIT_PER_MINUTE: String(limit), ...(redisUrl ? { REDIS_URL: redisUrl } : {}) })
    t.teardown(() => server.dispose())
    const [carol, dave] = [await signUp(server, 'carol@example.com'), await signUp(server, 'dave@example.com')]
    const rest = (user: TestUser) =>
      fetch(`${server.config.baseUrl}/api/mcp/tools/call`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
        body: JSON.stringify({ tool: 'whoami', arguments: {} }),
      })
    // A window may end during the loop, but not twice: one of them sees limit + 1 calls.
    let refused: { retryAfter: number; body: unknown } | undefined
    for (let i = 0; i < 2 * limit + 1 && !refused; i++) {
      const response = await rest(carol)
      const body = await response.json()
      if (response.status === 429) refused = { retryAfter: Number(response.headers.get('retry-after')), body }
      else t.equal(response.status, 200)
    }
    t.ok(refused, 'a call past the limit is refused')
    t.ok(Number.isInteger(refused!.retryAfter) && refused!.retryAfter >= 1 && refused!.retryAfter <= 60, 'with Retry-After up to the end of the window')
    t.match(refused!.body, { error: { code: 'rate_limited', message: /limit of 3 tool calls per 60 s/ } })
    t.equal((await rest(dave)).status, 200, 'another user is not held back')

    const c = await connect(server, carol)
    t.teardown(() => c.close())
    let outcome
    for (let i = 0; i < 2 * limit + 1; i++) {
      outcome = await call(c, 'get_api_usage')
      if (outcome.isError) break
      t.equal(outcome.value.limit, limit)
    }
    t.ok(outcome!.isError, 'over MCP the refusal is a tool error')
    t.match(outcome!.text, /retry in \d+ s/)
  })

  t.test(`finding 3: the migration ledger is closed to anon and authenticated, even under Supabase's default grants, on ${backend.name}`, async (t) => {
    const store = await backend.create()
    t.teardown(() => store.dispose())
    // What a Supabase project has before any migration runs.
    await store.db.exec(`
      do $$ begin create role anon nologin noinherit; exception when duplicate_object or unique_violation then null; end $$;
      do $$ begin create role authenticated nologin noinherit; exception when duplicate_object or unique_violation then null; end $$;
      alter default privileges in schema public grant all on tables to anon, authenticated;
    `)
    await migrate(store.db)
    const all = listMigrations().map((m) => m.name)
    for (const role of ['anon', 'authenticated']) {
      for (const sql of ['select name from public.atoms_migrations', 'delete from public.atoms_migrations', "insert into public.atoms_migrations (name) values ('9999_future.sql')"]) {
        const outcome = await store.db.transaction((tx) => tx.query(sql), { settings: { role } }).then((result) => `${result.rowCount} rows`, (error) => error.code)
        t.equal(outcome, '42501', `${role}: ${sql.split(' ')[0]} is refused`)
      }
    }
    t.same((await store.db.query('select name from public.atoms_migrations order by name')).rows.map((r) => r.name), all, 'the ledger is intact')
    t.same(await migrate(store.db), [], 'and the next start applies nothing')
  })
}
