-- OAUTH_UPSTREAM=oidc: which Supabase user a person at an OpenID provider is. Found by the
-- provider's verified email on the first sign-in, by the provider's `sub` from then on, so
-- an email change at the provider does not make a new user.
create table if not exists atoms_oauth.oidc_links (
  issuer text not null,
  subject text not null,
  user_id uuid not null,
  created_at timestamptz not null default now(),
  primary key (issuer, subject)
);
create index if not exists oidc_links_user_idx on atoms_oauth.oidc_links (user_id);
