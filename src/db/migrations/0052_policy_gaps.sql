-- The policies must hold for any statement a signed-in user sends (PostgREST on Supabase
-- exposes them), not only for the ones the tools build.

-- A membership row names one user in one organization for good: an update changes the role
-- only, so an admin of one organization cannot move its owners into another; and it records
-- who really made it.
create function atoms.keep_membership() returns trigger
language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    new.created_by := coalesce(auth.uid(), new.created_by);
    new.created_at := now();
  else
    new.organization_id := old.organization_id;
    new.user_id := old.user_id;
    new.created_by := old.created_by;
    new.created_at := old.created_at;
  end if;
  return new;
end
$$;
-- Named to fire before organization_members_owners, which then judges the real row.
create trigger organization_members_identity before insert or update on atoms.organization_members
for each row execute function atoms.keep_membership();

-- Whoever inserts a row is its creator, whatever created_by the statement names.
create function atoms.stamp_creator() returns trigger
language plpgsql as $$
begin
  new.created_by := coalesce(auth.uid(), new.created_by);
  return new;
end
$$;
create trigger projects_creator before insert on atoms.projects for each row execute function atoms.stamp_creator();
create trigger documents_creator before insert on atoms.documents for each row execute function atoms.stamp_creator();
create trigger requirements_creator before insert on atoms.requirements for each row execute function atoms.stamp_creator();
create trigger tests_creator before insert on atoms.tests for each row execute function atoms.stamp_creator();
create trigger relationships_creator before insert on atoms.relationships for each row execute function atoms.stamp_creator();

-- A child's project is looked up among the projects the caller may read, so naming another
-- tenant's project fails exactly as naming one that does not exist.
create or replace function atoms.inherit_project_organization() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op = 'INSERT' then
    new.organization_id := (
      select p.organization_id from atoms.projects p
      where p.id = new.project_id and p.deleted_at is null
        and (auth.uid() is null or p.organization_id in (select atoms.readable_organizations()))
    );
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

-- Triggers fire in name order: the document check must come after requirements_organization
-- has settled project_id, or it judges a project the row will not keep.
drop trigger requirements_document on atoms.requirements;
create trigger requirements_project_document before insert or update of document_id on atoms.requirements
for each row execute function atoms.check_requirement_document();

-- The relationship policy's lookup answers only for organizations the caller reads: called
-- directly it would tell anyone which organization any id belongs to.
create or replace function atoms.entity_organization(entity_type text, entity_id uuid) returns uuid
language sql stable security definer set search_path = '' as $$
  select found.org from (
    select case entity_type
      when 'organization' then (select o.id from atoms.organizations o where o.id = entity_id and o.deleted_at is null)
      when 'project' then (select x.organization_id from atoms.projects x where x.id = entity_id and x.deleted_at is null)
      when 'document' then (select x.organization_id from atoms.documents x where x.id = entity_id and x.deleted_at is null)
      when 'requirement' then (select x.organization_id from atoms.requirements x where x.id = entity_id and x.deleted_at is null)
      when 'test' then (select x.organization_id from atoms.tests x where x.id = entity_id and x.deleted_at is null)
    end as org
  ) found
  where auth.uid() is null or found.org in (select atoms.readable_organizations())
$$;

-- A saved context names only what the caller can see; the foreign keys alone would tell
-- whether any organization or project id exists.
alter policy user_contexts_own on atoms.user_contexts
  using (user_id = auth.uid())
  with check (
    user_id = auth.uid()
    and (organization_id is null or organization_id in (select atoms.readable_organizations()))
    and (project_id is null or exists (select 1 from atoms.projects p where p.id = project_id))
  );

-- Functions are executable by PUBLIC unless revoked. Only the ones policies and the tools
-- call are granted, to authenticated; trigger functions need no grant to fire.
revoke execute on all functions in schema atoms from public, authenticated;
alter default privileges in schema atoms revoke execute on functions from public;
grant execute on function
  atoms.member_organizations(),
  atoms.readable_organizations(),
  atoms.writable_organizations(),
  atoms.managed_organizations(),
  atoms.member_role(uuid),
  atoms.entity_organization(text, uuid),
  atoms.caller_email(),
  atoms.accept_invitation(uuid),
  atoms.member_with_email(uuid, text)
to authenticated;
