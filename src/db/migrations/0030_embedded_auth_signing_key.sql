-- The embedded auth's ES256 signing key, when the database is a shared PostgreSQL server:
-- every instance serving one database must sign and verify with the same key. The first
-- instance to start inserts it; the others read that row back.
create table if not exists embedded_auth.signing_keys (
  name text primary key,
  kid text not null,
  private_jwk jsonb not null,
  created_at timestamptz not null default now()
);
