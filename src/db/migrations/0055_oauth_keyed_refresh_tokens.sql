-- Refresh tokens (Supabase's, about 60 bits) were found by a plain SHA-256, which a reader
-- of the database could match against guesses offline, and the answer to a rotation was
-- sealed under the token alone. Both now use an HMAC under a key kept outside the database
-- (OAUTH_TOKEN_KEY, or DATA_DIR/oauth-token-key). Rows of the old form are marked here and
-- dropped, with a log line saying how many, by the first instance that starts with the key;
-- their clients sign in again. What was sealed under the token alone goes at once.
alter table atoms_oauth.refresh_tokens add column keyed boolean not null default false;
alter table atoms_oauth.refresh_tokens alter column keyed set default true;
update atoms_oauth.refresh_tokens set sealed_successor = null where sealed_successor is not null;

-- The Supabase session a refresh token belongs to (the access token's session_id claim), so
-- that ending it can also end the access tokens of that session cached by this server.
alter table atoms_oauth.refresh_tokens add column session_id text;
