-- What the authorization server keeps of a Supabase session or a token answer is sealed
-- (AES-256-GCM) under a key derived from the secret the row is found by: the pending
-- request's handle, the authorization code, the refresh token. The database keeps only
-- hashes of those, so reading it yields no usable credential. Rows written in the clear
-- before are dropped: requests and codes live minutes, a rotated token's answer seconds.
delete from atoms_oauth.pending_authorizations;
delete from atoms_oauth.authorization_codes;
update atoms_oauth.refresh_tokens set successor = null where successor is not null;

alter table atoms_oauth.pending_authorizations drop column session;
alter table atoms_oauth.pending_authorizations add column sealed_session text;
alter table atoms_oauth.pending_authorizations drop column provider_verifier;
alter table atoms_oauth.pending_authorizations add column sealed_provider_verifier text;

alter table atoms_oauth.authorization_codes drop column session;
alter table atoms_oauth.authorization_codes add column sealed_session text not null;
alter table atoms_oauth.authorization_codes drop column response;
alter table atoms_oauth.authorization_codes add column sealed_response text;

alter table atoms_oauth.refresh_tokens drop column successor;
alter table atoms_oauth.refresh_tokens add column sealed_successor text;
