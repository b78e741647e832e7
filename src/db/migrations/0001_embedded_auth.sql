-- Tables of the embedded Supabase-compatible auth. They live in their own schema so that
-- a real Supabase database (which has its own `auth` schema) is never touched.
create schema if not exists embedded_auth;

create table if not exists embedded_auth.users (
  id uuid primary key,
  email text unique,
  phone text unique,
  encrypted_password text,
  email_confirmed_at timestamptz,
  confirmation_sent_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb not null default '{}'::jsonb,
  raw_user_meta_data jsonb not null default '{}'::jsonb,
  banned_until timestamptz,
  is_anonymous boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table if not exists embedded_auth.identities (
  id uuid primary key,
  provider_id text not null,
  user_id uuid not null references embedded_auth.users (id) on delete cascade,
  provider text not null,
  identity_data jsonb not null default '{}'::jsonb,
  email text,
  last_sign_in_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (provider, provider_id)
);
create index if not exists identities_user_id_idx on embedded_auth.identities (user_id);

create table if not exists embedded_auth.sessions (
  id uuid primary key,
  user_id uuid not null references embedded_auth.users (id) on delete cascade,
  aal text not null default 'aal1',
  amr jsonb not null default '[]'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  refreshed_at timestamptz
);
create index if not exists sessions_user_id_idx on embedded_auth.sessions (user_id);

-- Refresh tokens are never stored: `token_hash` is the SHA-256 of the token, and the token
-- itself is re-derivable from `id` with the server's key (needed to answer a client that
-- failed to save the newest token with that same token).
create table if not exists embedded_auth.refresh_tokens (
  id uuid primary key,
  token_hash text not null unique,
  user_id uuid not null references embedded_auth.users (id) on delete cascade,
  session_id uuid not null references embedded_auth.sessions (id) on delete cascade,
  parent_id uuid,
  revoked boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index if not exists refresh_tokens_session_id_idx on embedded_auth.refresh_tokens (session_id);
create index if not exists refresh_tokens_parent_id_idx on embedded_auth.refresh_tokens (parent_id);

create table if not exists embedded_auth.flow_states (
  id uuid primary key,
  auth_code uuid unique,
  code_challenge text,
  code_challenge_method text,
  provider text not null,
  redirect_to text not null,
  user_id uuid references embedded_auth.users (id) on delete cascade,
  authentication_method text not null default 'oauth',
  created_at timestamptz not null default now(),
  auth_code_issued_at timestamptz
);
