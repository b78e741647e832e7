-- OAUTH_ACCESS_TOKENS=bound hands the client a refresh token of our own: the Supabase session
-- behind it stays here, sealed under that token and the token key. Every refresh token of one
-- grant (the code's first and each rotation after it) shares a grant id, so that ending the
-- grant (revocation, a reused token) ends all of them at once.
alter table atoms_oauth.refresh_tokens add column sealed_session text;
alter table atoms_oauth.refresh_tokens add column grant_id text;
create index if not exists refresh_tokens_grant_idx on atoms_oauth.refresh_tokens (grant_id);
