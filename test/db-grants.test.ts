import t from 'tap'
import type { Db } from '../src/db/db.ts'
import { migrate } from '../src/db/migrate.ts'
import { backends } from './helpers/backends.ts'

/**
 * Every table, view, sequence and function the migrations leave in `atoms` and `public` (the
 * schemas PostgREST can expose on Supabase), with its row-level security and what anon,
 * authenticated and PUBLIC may do with it. Anything new must be added here on purpose.
 */
const EXPECTED = [
  'table atoms.documents rls=on anon=- authenticated=INSERT,SELECT,UPDATE public=-',
  'table atoms.invitations rls=on anon=- authenticated=DELETE,INSERT,SELECT,UPDATE public=-',
  'table atoms.organization_members rls=on anon=- authenticated=DELETE,SELECT,UPDATE public=-',
  'table atoms.organizations rls=on anon=- authenticated=INSERT,SELECT,UPDATE public=-',
  'table atoms.projects rls=on anon=- authenticated=INSERT,SELECT,UPDATE public=-',
  'table atoms.relationships rls=on anon=- authenticated=INSERT,SELECT,UPDATE public=-',
  'table atoms.requirements rls=on anon=- authenticated=INSERT,SELECT,UPDATE public=-',
  'table atoms.tests rls=on anon=- authenticated=INSERT,SELECT,UPDATE public=-',
  'table atoms.user_contexts rls=on anon=- authenticated=DELETE,INSERT,SELECT,UPDATE public=-',
  'table public.atoms_migrations rls=on anon=- authenticated=- public=-',
  // Called by policies or by the tools, as the caller.
  'function atoms.accept_invitation(org uuid) definer anon=- authenticated=EXECUTE public=-',
  'function atoms.caller_email() definer anon=- authenticated=EXECUTE public=-',
  'function atoms.entity_organization(entity_type text, entity_id uuid) definer anon=- authenticated=EXECUTE public=-',
  'function atoms.managed_organizations() definer anon=- authenticated=EXECUTE public=-',
  'function atoms.member_organizations() definer anon=- authenticated=EXECUTE public=-',
  'function atoms.member_role(org uuid) definer anon=- authenticated=EXECUTE public=-',
  'function atoms.member_with_email(org uuid, member_email text) definer anon=- authenticated=EXECUTE public=-',
  'function atoms.readable_organizations() definer anon=- authenticated=EXECUTE public=-',
  'function atoms.writable_organizations() definer anon=- authenticated=EXECUTE public=-',
  // Trigger functions: they fire without any grant, so nobody may call them.
  'function atoms.add_creator_as_owner() definer anon=- authenticated=- public=-',
  'function atoms.check_requirement_document() definer anon=- authenticated=- public=-',
  'function atoms.guard_invitations() definer anon=- authenticated=- public=-',
  'function atoms.guard_organization_deletion() definer anon=- authenticated=- public=-',
  'function atoms.guard_owners() definer anon=- authenticated=- public=-',
  'function atoms.inherit_project_organization() definer anon=- authenticated=- public=-',
  'function atoms.keep_identity() invoker anon=- authenticated=- public=-',
  'function atoms.keep_membership() invoker anon=- authenticated=- public=-',
  'function atoms.keep_project_organization() invoker anon=- authenticated=- public=-',
  'function atoms.keep_relationship_ends() invoker anon=- authenticated=- public=-',
  'function atoms.stamp_creator() invoker anon=- authenticated=- public=-',
  'function atoms.use_owner_invitation() definer anon=- authenticated=- public=-',
  'function atoms.withdraw_invitations_of_former_managers() definer anon=- authenticated=- public=-',
  'schema atoms anon=- authenticated=USAGE public=-',
].sort()

const GRANTS = `
  select coalesce(string_agg(distinct a.privilege_type, ',' order by a.privilege_type) filter (where a.grantee = 0), '-') as public,
         coalesce(string_agg(distinct a.privilege_type, ',' order by a.privilege_type) filter (where a.grantee = 'anon'::regrole), '-') as anon,
         coalesce(string_agg(distinct a.privilege_type, ',' order by a.privilege_type) filter (where a.grantee = 'authenticated'::regrole), '-') as authenticated
  from aclexplode(%ACL%) a`

async function inventory(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ line: string }>(`
    select format('%s %s.%s rls=%s anon=%s authenticated=%s public=%s',
             case c.relkind when 'S' then 'sequence' when 'v' then 'view' when 'm' then 'view' else 'table' end,
             n.nspname, c.relname, case when c.relrowsecurity then 'on' else 'off' end, g.anon, g.authenticated, g.public) as line
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    cross join lateral (${GRANTS.replace('%ACL%', "coalesce(c.relacl, acldefault((case c.relkind when 'S' then 's' else 'r' end)::\"char\", c.relowner))")}) g
    where n.nspname in ('atoms', 'public') and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
    union all
    select format('function %s.%s(%s) %s anon=%s authenticated=%s public=%s',
             n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), case when p.prosecdef then 'definer' else 'invoker' end, g.anon, g.authenticated, g.public)
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    cross join lateral (${GRANTS.replace('%ACL%', "coalesce(p.proacl, acldefault('f', p.proowner))")}) g
    where n.nspname in ('atoms', 'public')
    union all
    select format('schema %s anon=%s authenticated=%s public=%s', n.nspname, g.anon, g.authenticated, g.public)
    from pg_namespace n
    cross join lateral (${GRANTS.replace('%ACL%', "coalesce(n.nspacl, acldefault('n', n.nspowner))")}) g
    where n.nspname = 'atoms'
  `)
  return rows.map((r) => r.line).sort()
}

for (const backend of backends()) {
  for (const supabaseDefaults of [false, true]) {
    const setting = supabaseDefaults ? " under Supabase's default privileges on public" : ''
    t.test(`grants and row-level security of everything in atoms and public on ${backend.name}${setting}`, async (t) => {
      const store = await backend.create()
      t.teardown(() => store.dispose())
      if (supabaseDefaults) {
        // A Supabase project grants whatever is created in public to its API roles.
        await store.db.exec(`
          do $$ begin create role anon nologin noinherit; exception when duplicate_object or unique_violation then null; end $$;
          do $$ begin create role authenticated nologin noinherit; exception when duplicate_object or unique_violation then null; end $$;
          alter default privileges in schema public grant all on tables to anon, authenticated;
          alter default privileges in schema public grant all on sequences to anon, authenticated;
          alter default privileges in schema public grant all on functions to anon, authenticated;
        `)
      }
      await migrate(store.db)
      t.same(await inventory(store.db), EXPECTED)
    })
  }
}
