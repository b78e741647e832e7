-- A Client ID Metadata Document that could not be fetched or was refused is remembered for a
-- minute too (document null, failure set), so an unauthenticated caller repeating its URL
-- does not make this server fetch it again each time.
alter table atoms_oauth.metadata_documents alter column document drop not null;
alter table atoms_oauth.metadata_documents add column failure text;
