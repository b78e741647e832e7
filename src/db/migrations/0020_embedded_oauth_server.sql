-- The embedded auth's OAuth 2.1 server (Supabase Auth's "OAuth Server"): clients registered
-- with it, pending and approved authorizations, and the consents users gave.
create table if not exists embedded_auth.oauth_clients (
  id uuid primary key,
  client_secret_hash text,
  client_type text not null check (client_type in ('public', 'confidential')),
  token_endpoint_auth_method text not null check (token_endpoint_auth_method in ('none', 'client_secret_basic', 'client_secret_post')),
  redirect_uris text[] not null,
  grant_types text[] not null,
  client_name text,
  client_uri text,
  logo_uri text,
  registration_type text not null default 'dynamic',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table if not exists embedded_auth.oauth_authorizations (
  id uuid primary key,
  client_id uuid not null references embedded_auth.oauth_clients (id) on delete cascade,
  user_id uuid references embedded_auth.users (id) on delete cascade,
  redirect_uri text not null,
  scope text not null,
  state text,
  resource text,
  nonce text,
  code_challenge text not null,
  code_challenge_method text not null,
  status text not null default 'pending' check (status in ('pending', 'approved', 'denied', 'used')),
  -- Only the hash of an authorization code is kept.
  code_hash text unique,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  approved_at timestamptz
);
create index if not exists oauth_authorizations_expires_at_idx on embedded_auth.oauth_authorizations (expires_at);

create table if not exists embedded_auth.oauth_consents (
  user_id uuid not null references embedded_auth.users (id) on delete cascade,
  client_id uuid not null references embedded_auth.oauth_clients (id) on delete cascade,
  scopes text not null,
  granted_at timestamptz not null default now(),
  primary key (user_id, client_id)
);

-- Sessions started through the OAuth server carry the client and scope into their tokens.
alter table embedded_auth.sessions add column if not exists oauth_client_id uuid references embedded_auth.oauth_clients (id) on delete cascade;
alter table embedded_auth.sessions add column if not exists scope text;
