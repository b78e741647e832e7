-- The entity model. Access is decided here, by row-level security keyed on organization
-- membership, so a tool can only ever see and change what its caller may.
create schema if not exists atoms;

create table atoms.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  description text not null default '',
  created_by uuid not null default auth.uid(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  search tsvector generated always as (to_tsvector('english', name || ' ' || description)) stored
);

create table atoms.organization_members (
  organization_id uuid not null references atoms.organizations (id) on delete cascade,
  user_id uuid not null,
  role text not null check (role in ('owner', 'admin', 'member', 'viewer')),
  created_by uuid default auth.uid(),
  created_at timestamptz not null default now(),
  primary key (organization_id, user_id)
);
create index organization_members_user_idx on atoms.organization_members (user_id);

create table atoms.projects (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references atoms.organizations (id),
  name text not null check (length(name) between 1 and 200),
  description text not null default '',
  created_by uuid not null default auth.uid(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  search tsvector generated always as (to_tsvector('english', name || ' ' || description)) stored
);
create index projects_page_idx on atoms.projects (organization_id, created_at, id);

-- Documents, requirements and tests carry their project's organization (set by a trigger)
-- so that one membership check covers them without a join per row.
create table atoms.documents (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references atoms.organizations (id),
  project_id uuid not null references atoms.projects (id),
  title text not null check (length(title) between 1 and 500),
  content text not null default '',
  created_by uuid not null default auth.uid(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  search tsvector generated always as (to_tsvector('english', title || ' ' || content)) stored
);
create index documents_page_idx on atoms.documents (project_id, created_at, id);

create table atoms.requirements (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references atoms.organizations (id),
  project_id uuid not null references atoms.projects (id),
  document_id uuid references atoms.documents (id),
  title text not null check (length(title) between 1 and 500),
  description text not null default '',
  priority text not null default 'medium' check (priority in ('low', 'medium', 'high', 'critical')),
  status text not null default 'draft' check (status in ('draft', 'approved', 'implemented', 'verified')),
  created_by uuid not null default auth.uid(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  search tsvector generated always as (to_tsvector('english', title || ' ' || description)) stored
);
create index requirements_page_idx on atoms.requirements (project_id, created_at, id);

create table atoms.tests (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references atoms.organizations (id),
  project_id uuid not null references atoms.projects (id),
  title text not null check (length(title) between 1 and 500),
  description text not null default '',
  status text not null default 'not_run' check (status in ('not_run', 'passed', 'failed')),
  created_by uuid not null default auth.uid(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  search tsvector generated always as (to_tsvector('english', title || ' ' || description)) stored
);
create index tests_page_idx on atoms.tests (project_id, created_at, id);

create index organizations_search_idx on atoms.organizations using gin (search);
create index projects_search_idx on atoms.projects using gin (search);
create index documents_search_idx on atoms.documents using gin (search);
create index requirements_search_idx on atoms.requirements using gin (search);
create index tests_search_idx on atoms.tests using gin (search);

create table atoms.relationships (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references atoms.organizations (id),
  source_type text not null check (source_type in ('organization', 'project', 'document', 'requirement', 'test')),
  source_id uuid not null,
  target_type text not null check (target_type in ('organization', 'project', 'document', 'requirement', 'test')),
  target_id uuid not null,
  kind text not null check (kind in ('verifies', 'derives_from', 'references', 'parent_of')),
  created_by uuid not null default auth.uid(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  check (source_id <> target_id)
);
create unique index relationships_live_idx on atoms.relationships (source_id, target_id, kind) where deleted_at is null;
create index relationships_target_idx on atoms.relationships (target_id);

-- The active organization and project of each user (workspace_tool set_context).
create table atoms.user_contexts (
  user_id uuid primary key default auth.uid(),
  organization_id uuid references atoms.organizations (id) on delete set null,
  project_id uuid references atoms.projects (id) on delete set null,
  updated_at timestamptz not null default now()
);

-- Membership lookups. SECURITY DEFINER so that policies on organization_members can use
-- them without recursing into their own policy.
create function atoms.readable_organizations() returns setof uuid
language sql stable security definer set search_path = '' as $$
  select m.organization_id from atoms.organization_members m where m.user_id = auth.uid()
$$;

create function atoms.writable_organizations() returns setof uuid
language sql stable security definer set search_path = '' as $$
  select m.organization_id from atoms.organization_members m
  where m.user_id = auth.uid() and m.role in ('owner', 'admin', 'member')
$$;

create function atoms.managed_organizations() returns setof uuid
language sql stable security definer set search_path = '' as $$
  select m.organization_id from atoms.organization_members m
  where m.user_id = auth.uid() and m.role in ('owner', 'admin')
$$;

create function atoms.member_role(org uuid) returns text
language sql stable security definer set search_path = '' as $$
  select m.role from atoms.organization_members m where m.organization_id = org and m.user_id = auth.uid()
$$;

-- The creator of an organization becomes its owner, whichever way the row was inserted.
create function atoms.add_creator_as_owner() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into atoms.organization_members (organization_id, user_id, role, created_by)
  values (new.id, new.created_by, 'owner', new.created_by);
  return null;
end
$$;
create trigger organizations_creator_owner after insert on atoms.organizations
for each row execute function atoms.add_creator_as_owner();

-- Children take their organization from their project; a requirement's document must be in
-- the same project. Both lookups bypass RLS on purpose: the insert policy then decides.
create function atoms.inherit_project_organization() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op = 'INSERT' then
    new.organization_id := (select p.organization_id from atoms.projects p where p.id = new.project_id and p.deleted_at is null);
    if new.organization_id is null then
      raise exception 'project not found' using errcode = 'no_data_found';
    end if;
  else
    new.organization_id := old.organization_id;
    new.project_id := old.project_id;
  end if;
  return new;
end
$$;
create trigger documents_organization before insert or update on atoms.documents
for each row execute function atoms.inherit_project_organization();
create trigger requirements_organization before insert or update on atoms.requirements
for each row execute function atoms.inherit_project_organization();
create trigger tests_organization before insert or update on atoms.tests
for each row execute function atoms.inherit_project_organization();

create function atoms.check_requirement_document() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if new.document_id is not null and not exists (
    select 1 from atoms.documents d where d.id = new.document_id and d.project_id = new.project_id and d.deleted_at is null
  ) then
    raise exception 'document not found in this project' using errcode = 'no_data_found';
  end if;
  return new;
end
$$;
create trigger requirements_document before insert or update of document_id on atoms.requirements
for each row execute function atoms.check_requirement_document();

create function atoms.keep_identity() returns trigger
language plpgsql as $$
begin
  new.id := old.id;
  new.created_by := old.created_by;
  new.created_at := old.created_at;
  new.updated_at := now();
  return new;
end
$$;
create trigger organizations_identity before update on atoms.organizations for each row execute function atoms.keep_identity();
create trigger projects_identity before update on atoms.projects for each row execute function atoms.keep_identity();
create trigger documents_identity before update on atoms.documents for each row execute function atoms.keep_identity();
create trigger requirements_identity before update on atoms.requirements for each row execute function atoms.keep_identity();
create trigger tests_identity before update on atoms.tests for each row execute function atoms.keep_identity();
create trigger relationships_identity before update on atoms.relationships for each row execute function atoms.keep_identity();

create function atoms.keep_project_organization() returns trigger
language plpgsql as $$
begin
  new.organization_id := old.organization_id;
  return new;
end
$$;
create trigger projects_organization before update on atoms.projects for each row execute function atoms.keep_project_organization();

-- A link's ends and organization are fixed once made (the insert policy checked them).
create function atoms.keep_relationship_ends() returns trigger
language plpgsql as $$
begin
  new.organization_id := old.organization_id;
  new.source_type := old.source_type;
  new.source_id := old.source_id;
  new.target_type := old.target_type;
  new.target_id := old.target_id;
  return new;
end
$$;
create trigger relationships_ends before update on atoms.relationships for each row execute function atoms.keep_relationship_ends();

-- The organization an entity belongs to, for relationships; NULL when it does not exist.
create function atoms.entity_organization(entity_type text, entity_id uuid) returns uuid
language sql stable security definer set search_path = '' as $$
  select case entity_type
    when 'organization' then (select o.id from atoms.organizations o where o.id = entity_id and o.deleted_at is null)
    when 'project' then (select x.organization_id from atoms.projects x where x.id = entity_id and x.deleted_at is null)
    when 'document' then (select x.organization_id from atoms.documents x where x.id = entity_id and x.deleted_at is null)
    when 'requirement' then (select x.organization_id from atoms.requirements x where x.id = entity_id and x.deleted_at is null)
    when 'test' then (select x.organization_id from atoms.tests x where x.id = entity_id and x.deleted_at is null)
  end
$$;

-- Owners are protected: only an owner grants or takes the owner role, and the last owner
-- of an organization stays.
create function atoms.guard_owners() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  org uuid := coalesce(new.organization_id, old.organization_id);
begin
  if (tg_op <> 'INSERT' and old.role = 'owner') or (tg_op <> 'DELETE' and new.role = 'owner') then
    if atoms.member_role(org) is distinct from 'owner' and auth.uid() is not null
       and not exists (select 1 from atoms.organizations o where o.id = org and o.created_by = auth.uid() and tg_op = 'INSERT') then
      raise exception 'only an owner can grant or remove the owner role' using errcode = 'insufficient_privilege';
    end if;
  end if;
  if tg_op <> 'INSERT' and old.role = 'owner' and (tg_op = 'DELETE' or new.role <> 'owner') then
    if not exists (select 1 from atoms.organization_members m where m.organization_id = org and m.role = 'owner' and m.user_id <> old.user_id) then
      raise exception 'an organization keeps at least one owner' using errcode = 'check_violation';
    end if;
  end if;
  return coalesce(new, old);
end
$$;
create trigger organization_members_owners before insert or update or delete on atoms.organization_members
for each row execute function atoms.guard_owners();

-- Finds a user by email for a manager adding a member. Works with Supabase (auth.users)
-- and the embedded auth (embedded_auth.users); answers nothing to anyone else.
create function atoms.find_user_for_organization(org uuid, user_email text) returns uuid
language plpgsql stable security definer set search_path = '' as $$
declare
  found uuid;
begin
  if atoms.member_role(org) not in ('owner', 'admin') or atoms.member_role(org) is null then
    return null;
  end if;
  if to_regclass('auth.users') is not null then
    execute 'select id from auth.users where lower(email) = lower($1) limit 1' into found using user_email;
  end if;
  if found is null and to_regclass('embedded_auth.users') is not null then
    execute 'select id from embedded_auth.users where lower(email) = lower($1) limit 1' into found using user_email;
  end if;
  return found;
end
$$;

alter table atoms.organizations enable row level security;
alter table atoms.organization_members enable row level security;
alter table atoms.projects enable row level security;
alter table atoms.documents enable row level security;
alter table atoms.requirements enable row level security;
alter table atoms.tests enable row level security;
alter table atoms.relationships enable row level security;
alter table atoms.user_contexts enable row level security;

create policy organizations_read on atoms.organizations for select to authenticated
  using (id in (select atoms.readable_organizations()));
create policy organizations_create on atoms.organizations for insert to authenticated
  with check (created_by = auth.uid());
create policy organizations_manage on atoms.organizations for update to authenticated
  using (id in (select atoms.managed_organizations()))
  with check (id in (select atoms.managed_organizations()));

create policy members_read on atoms.organization_members for select to authenticated
  using (organization_id in (select atoms.readable_organizations()));
create policy members_add on atoms.organization_members for insert to authenticated
  with check (organization_id in (select atoms.managed_organizations()));
create policy members_change on atoms.organization_members for update to authenticated
  using (organization_id in (select atoms.managed_organizations()))
  with check (organization_id in (select atoms.managed_organizations()));
create policy members_remove on atoms.organization_members for delete to authenticated
  using (organization_id in (select atoms.managed_organizations()));

do $$
declare
  t text;
begin
  foreach t in array array['projects', 'documents', 'requirements', 'tests', 'relationships'] loop
    execute format('create policy %1$s_read on atoms.%1$I for select to authenticated
      using (organization_id in (select atoms.readable_organizations()))', t);
    execute format('create policy %1$s_create on atoms.%1$I for insert to authenticated
      with check (organization_id in (select atoms.writable_organizations()))', t);
    execute format('create policy %1$s_write on atoms.%1$I for update to authenticated
      using (organization_id in (select atoms.writable_organizations()))
      with check (organization_id in (select atoms.writable_organizations()))', t);
  end loop;
end
$$;

-- Both ends of a relationship must belong to the relationship's organization.
create policy relationships_same_organization on atoms.relationships as restrictive for insert to authenticated
  with check (
    atoms.entity_organization(source_type, source_id) = organization_id
    and atoms.entity_organization(target_type, target_id) = organization_id
  );

create policy user_contexts_own on atoms.user_contexts for all to authenticated
  using (user_id = auth.uid()) with check (user_id = auth.uid());

grant usage on schema atoms to authenticated;
grant select, insert, update on all tables in schema atoms to authenticated;
grant delete on atoms.organization_members, atoms.user_contexts to authenticated;
grant execute on all functions in schema atoms to authenticated;
