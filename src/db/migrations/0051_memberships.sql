-- Membership rules. A deleted organization grants nothing: its members keep seeing the
-- organization row and its member list (so the deletion can be read back), but no longer
-- what it holds, and no one manages it any more. Only an owner deletes an organization.
create function atoms.member_organizations() returns setof uuid
language sql stable security definer set search_path = '' as $$
  select m.organization_id from atoms.organization_members m where m.user_id = auth.uid()
$$;

create or replace function atoms.readable_organizations() returns setof uuid
language sql stable security definer set search_path = '' as $$
  select m.organization_id from atoms.organization_members m
  join atoms.organizations o on o.id = m.organization_id and o.deleted_at is null
  where m.user_id = auth.uid()
$$;

create or replace function atoms.writable_organizations() returns setof uuid
language sql stable security definer set search_path = '' as $$
  select m.organization_id from atoms.organization_members m
  join atoms.organizations o on o.id = m.organization_id and o.deleted_at is null
  where m.user_id = auth.uid() and m.role in ('owner', 'admin', 'member')
$$;

create or replace function atoms.managed_organizations() returns setof uuid
language sql stable security definer set search_path = '' as $$
  select m.organization_id from atoms.organization_members m
  join atoms.organizations o on o.id = m.organization_id and o.deleted_at is null
  where m.user_id = auth.uid() and m.role in ('owner', 'admin')
$$;

alter policy organizations_read on atoms.organizations using (id in (select atoms.member_organizations()));
alter policy members_read on atoms.organization_members using (organization_id in (select atoms.member_organizations()));

create function atoms.guard_organization_deletion() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if new.deleted_at is distinct from old.deleted_at and auth.uid() is not null
     and atoms.member_role(old.id) is distinct from 'owner' then
    raise exception 'only an owner can delete an organization' using errcode = 'insufficient_privilege';
  end if;
  return new;
end
$$;
create trigger organizations_deletion before update of deleted_at on atoms.organizations
for each row execute function atoms.guard_organization_deletion();

-- Invitations: a manager invites an email address and the person holding it (once signed in
-- with that address confirmed) accepts. Nobody is added to an organization without consent,
-- and inviting answers the same whether or not the address belongs to anyone.
create table atoms.invitations (
  organization_id uuid not null references atoms.organizations (id) on delete cascade,
  email text not null check (email = lower(email) and length(email) between 3 and 320),
  role text not null check (role in ('owner', 'admin', 'member', 'viewer')),
  created_by uuid default auth.uid(),
  created_at timestamptz not null default now(),
  primary key (organization_id, email)
);
create index invitations_email_idx on atoms.invitations (email);

-- The caller's own confirmed email, from Supabase (auth.users) or the embedded auth.
create function atoms.caller_email() returns text
language plpgsql stable security definer set search_path = '' as $$
declare
  found text;
begin
  if auth.uid() is null then
    return null;
  end if;
  if to_regclass('auth.users') is not null then
    execute 'select lower(email) from auth.users where id = $1 and email_confirmed_at is not null' into found using auth.uid();
  end if;
  if found is null and to_regclass('embedded_auth.users') is not null then
    execute 'select lower(email) from embedded_auth.users where id = $1 and email_confirmed_at is not null' into found using auth.uid();
  end if;
  return found;
end
$$;

create function atoms.guard_invitations() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op = 'UPDATE' then
    new.organization_id := old.organization_id;
    new.email := old.email;
  end if;
  if auth.uid() is not null then
    new.created_by := auth.uid();
    if (new.role = 'owner' or (tg_op = 'UPDATE' and old.role = 'owner'))
       and atoms.member_role(new.organization_id) is distinct from 'owner' then
      raise exception 'only an owner can grant or remove the owner role' using errcode = 'insufficient_privilege';
    end if;
  end if;
  return new;
end
$$;
create trigger invitations_guard before insert or update on atoms.invitations
for each row execute function atoms.guard_invitations();

alter table atoms.invitations enable row level security;
create policy invitations_read on atoms.invitations for select to authenticated
  using (organization_id in (select atoms.managed_organizations()) or email = atoms.caller_email());
create policy invitations_create on atoms.invitations for insert to authenticated
  with check (organization_id in (select atoms.managed_organizations()));
create policy invitations_change on atoms.invitations for update to authenticated
  using (organization_id in (select atoms.managed_organizations()))
  with check (organization_id in (select atoms.managed_organizations()));
-- The invitee declines by deleting theirs.
create policy invitations_withdraw on atoms.invitations for delete to authenticated
  using (organization_id in (select atoms.managed_organizations()) or email = atoms.caller_email());
grant select, insert, update, delete on atoms.invitations to authenticated;

-- Members join only by accepting an invitation (or by creating the organization): nobody
-- inserts membership rows directly.
drop policy members_add on atoms.organization_members;
revoke insert on atoms.organization_members from authenticated;

create function atoms.accept_invitation(org uuid) returns text
language plpgsql volatile security definer set search_path = '' as $$
declare
  invitee text := atoms.caller_email();
  invited text;
  joined text;
begin
  select i.role into invited from atoms.invitations i
  join atoms.organizations o on o.id = i.organization_id and o.deleted_at is null
  where i.organization_id = org and i.email = invitee;
  if invited is null then
    raise exception 'invitation not found' using errcode = 'no_data_found';
  end if;
  insert into atoms.organization_members (organization_id, user_id, role) values (org, auth.uid(), invited)
  on conflict (organization_id, user_id) do update set role = excluded.role;
  delete from atoms.invitations i where i.organization_id = org and i.email = invitee;
  select m.role into joined from atoms.organization_members m where m.organization_id = org and m.user_id = auth.uid();
  return joined;
end
$$;

-- The member of a managed organization holding an email, for removing members by email;
-- nothing about anyone outside that organization.
create function atoms.member_with_email(org uuid, member_email text) returns uuid
language plpgsql stable security definer set search_path = '' as $$
declare
  found uuid;
begin
  if org not in (select atoms.managed_organizations()) then
    return null;
  end if;
  if to_regclass('auth.users') is not null then
    execute 'select u.id from auth.users u join atoms.organization_members m on m.user_id = u.id and m.organization_id = $1
      where lower(u.email) = lower($2) limit 1' into found using org, member_email;
  end if;
  if found is null and to_regclass('embedded_auth.users') is not null then
    execute 'select u.id from embedded_auth.users u join atoms.organization_members m on m.user_id = u.id and m.organization_id = $1
      where lower(u.email) = lower($2) limit 1' into found using org, member_email;
  end if;
  return found;
end
$$;

-- The email-to-user lookup answered any organization's creator, so anyone.
drop function atoms.find_user_for_organization(uuid, text);

-- Owners are protected: only an owner grants or takes the owner role, and the last owner
-- of an organization stays. The first owner row of an organization (its creator's, made by
-- the insert trigger) and an owner invitation being accepted (while its inviter is still an
-- owner) are the two exceptions; the first is only ever the first row, so a creator demoted
-- later gains nothing from it.
-- Removing or demoting an owner locks the organization row first, so two such changes
-- racing each other count the owners one after the other.
create or replace function atoms.guard_owners() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  org uuid := coalesce(new.organization_id, old.organization_id);
begin
  if (tg_op <> 'INSERT' and old.role = 'owner') or (tg_op <> 'DELETE' and new.role = 'owner') then
    if auth.uid() is not null and atoms.member_role(org) is distinct from 'owner'
       and not (tg_op <> 'DELETE' and new.user_id = auth.uid() and (
         (tg_op = 'INSERT'
          and exists (select 1 from atoms.organizations o where o.id = org and o.created_by = auth.uid())
          and not exists (select 1 from atoms.organization_members m where m.organization_id = org))
         or exists (
           select 1 from atoms.invitations i
           join atoms.organization_members inviter on inviter.organization_id = i.organization_id and inviter.user_id = i.created_by and inviter.role = 'owner'
           where i.organization_id = org and i.role = 'owner' and i.email = atoms.caller_email()
         )
       )) then
      raise exception 'only an owner can grant or remove the owner role' using errcode = 'insufficient_privilege';
    end if;
  end if;
  if tg_op <> 'INSERT' and old.role = 'owner' and (tg_op = 'DELETE' or new.role <> 'owner') then
    perform 1 from atoms.organizations o where o.id = org for no key update;
    -- Not found: the organization itself is being deleted (by its owner in SQL), members with it.
    if found and not exists (select 1 from atoms.organization_members m where m.organization_id = org and m.role = 'owner' and m.user_id <> old.user_id) then
      raise exception 'an organization keeps at least one owner' using errcode = 'check_violation';
    end if;
  end if;
  return coalesce(new, old);
end
$$;
