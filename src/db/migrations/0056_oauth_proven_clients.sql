-- Clients that have redeemed a code at least once: their redirect URI has been shown to lead
-- back to them. Only these hear /authorize's errors by redirect; for any other client (one
-- anybody just registered, naming any site as its redirect URI) an error is shown on a page,
-- so this server cannot be used as an open redirector (RFC 9700 §4.11.2).
create table if not exists atoms_oauth.proven_clients (
  client_id text primary key,
  proven_at timestamptz not null default now()
);
create index if not exists proven_clients_proven_idx on atoms_oauth.proven_clients (proven_at);
