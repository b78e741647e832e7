-- An invitation stands only while whoever made it may still make it: removing a manager, or
-- demoting one below admin, withdraws their pending invitations, and demoting an owner withdraws
-- their owner invitations. Otherwise an admin about to be removed could invite a second account
-- of theirs first and come back through it once removed.
create function atoms.withdraw_invitations_of_former_managers() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op = 'DELETE' or new.role not in ('owner', 'admin') then
    delete from atoms.invitations i where i.organization_id = old.organization_id and i.created_by = old.user_id;
  elsif old.role = 'owner' and new.role <> 'owner' then
    delete from atoms.invitations i where i.organization_id = old.organization_id and i.created_by = old.user_id and i.role = 'owner';
  end if;
  return null;
end
$$;
create trigger organization_members_inviter after delete or update of role on atoms.organization_members
for each row when (old.role in ('owner', 'admin')) execute function atoms.withdraw_invitations_of_former_managers();
-- Trigger functions fire without any grant (see 0061).
revoke execute on function atoms.withdraw_invitations_of_former_managers() from public;
