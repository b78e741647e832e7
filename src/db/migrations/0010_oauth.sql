-- State of the OAuth authorization server of AUTH_MODE=oauth. Every secret is stored as a
-- SHA-256 hash; rows carry their own expiry so any instance sharing the database can
-- continue a flow another one started, and a sweep removes what has expired.
create schema if not exists atoms_oauth;

create table if not exists atoms_oauth.clients (
  client_id text primary key,
  secret_hash text,
  metadata jsonb not null,
  created_at timestamptz not null default now(),
  -- Registrations unused for a while expire, so registration spam cannot grow the table.
  last_used_at timestamptz not null default now()
);
create index if not exists clients_last_used_idx on atoms_oauth.clients (last_used_at);

-- Server-wide secrets (the cookie signing key), created once and shared by every instance.
create table if not exists atoms_oauth.secrets (
  name text primary key,
  value text not null,
  created_at timestamptz not null default now()
);

-- An authorization request between /authorize and the redirect back to the client.
create table if not exists atoms_oauth.pending_authorizations (
  handle_hash text primary key,
  client_id text not null,
  redirect_uri text not null,
  state text,
  code_challenge text not null,
  scope text not null,
  resource text not null,
  browser_hash text not null,
  -- prompt=consent: ask again even when this user already approved this client.
  prompt_consent boolean not null default false,
  provider_verifier text,
  user_id text,
  user_email text,
  session jsonb,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index if not exists pending_authorizations_expires_idx on atoms_oauth.pending_authorizations (expires_at);

create table if not exists atoms_oauth.authorization_codes (
  code_hash text primary key,
  client_id text not null,
  redirect_uri text not null,
  code_challenge text not null,
  scope text not null,
  resource text not null,
  user_id text not null,
  session jsonb not null,
  expires_at timestamptz not null,
  used_at timestamptz,
  verifier_hash text,
  response jsonb
);
create index if not exists authorization_codes_expires_idx on atoms_oauth.authorization_codes (expires_at);

-- Refresh tokens handed to clients (Supabase's own), bound to the client that got them.
create table if not exists atoms_oauth.refresh_tokens (
  token_hash text primary key,
  client_id text not null,
  user_id text not null,
  scope text not null,
  resource text not null,
  created_at timestamptz not null default now(),
  rotating_since timestamptz,
  rotated_at timestamptz,
  successor jsonb,
  revoked_at timestamptz
);
create index if not exists refresh_tokens_client_idx on atoms_oauth.refresh_tokens (client_id);

create table if not exists atoms_oauth.consents (
  user_id text not null,
  client_id text not null,
  scope text not null,
  granted_at timestamptz not null default now(),
  primary key (user_id, client_id)
);

create table if not exists atoms_oauth.rate_limits (
  bucket text primary key,
  window_start timestamptz not null,
  hits integer not null
);

create table if not exists atoms_oauth.metadata_documents (
  url text primary key,
  document jsonb not null,
  expires_at timestamptz not null
);
