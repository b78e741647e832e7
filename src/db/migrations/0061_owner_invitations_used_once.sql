-- An owner invitation makes its invitee owner once. guard_owners lets a caller who is not an
-- owner make themselves one while such an invitation is pending, and an admin holding one can
-- do so with a plain update of their own membership row, not only through accept_invitation.
-- Whichever statement takes the role up uses the invitation up, or a demoted owner could take
-- the role back with it for as long as the inviter stays an owner.
create function atoms.use_owner_invitation() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if new.role = 'owner' and new.user_id = auth.uid() and (tg_op = 'INSERT' or old.role <> 'owner') then
    delete from atoms.invitations i
    where i.organization_id = new.organization_id and i.role = 'owner' and i.email = atoms.caller_email();
  end if;
  return null;
end
$$;
create trigger organization_members_owner_invitation after insert or update of role on atoms.organization_members
for each row execute function atoms.use_owner_invitation();
-- Trigger functions fire without any grant. A per-schema default privilege cannot take back
-- the EXECUTE every new function gives PUBLIC by default (0052's `alter default privileges in
-- schema atoms` changes nothing there), so each new function in atoms is revoked by name.
revoke execute on function atoms.use_owner_invitation() from public;
