-- The ledger of applied migrations sits in `public`, which PostgREST exposes on Supabase and
-- where Supabase's default privileges grant every new table to anon and authenticated. Only
-- the migrating owner may touch it: row-level security without a policy refuses every other
-- role (the owner bypasses it), and the grants those roles got by default are taken back.
alter table public.atoms_migrations enable row level security;
revoke all on public.atoms_migrations from public, anon, authenticated;
