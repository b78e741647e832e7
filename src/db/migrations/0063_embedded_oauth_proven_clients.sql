-- When a client of the embedded OAuth server first redeemed a code: from then on its redirect
-- URI has been shown to lead back to it, and only then do /oauth/authorize's errors go there
-- by redirect. Before, anybody could register a client naming any site and use this server
-- as an open redirector (RFC 9700 §4.11.2).
alter table embedded_auth.oauth_clients add column if not exists proven_at timestamptz;
