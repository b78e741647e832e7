-- What a Supabase database already has and the policies rely on: the roles PostgREST
-- switches to, and auth.uid()/auth.jwt() reading the verified claims of the request.
-- Everything here is created only when missing, so a real Supabase database keeps its own.

-- Roles are cluster-wide: several databases on one server may race to create them.
do $$
begin
  begin
    create role anon nologin noinherit;
  exception when duplicate_object or unique_violation then null;
  end;
  begin
    create role authenticated nologin noinherit;
  exception when duplicate_object or unique_violation then null;
  end;
end
$$;

-- A non-superuser owner must be a member of `authenticated` to `set role` to it.
do $$
begin
  if not pg_has_role(current_user, 'authenticated', 'member') then
    execute format('grant authenticated to %I', current_user);
  end if;
exception when insufficient_privilege then null;
end
$$;

create schema if not exists auth;

do $$
begin
  if to_regprocedure('auth.uid()') is null then
    create function auth.uid() returns uuid language sql stable as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
      )::uuid
    $f$;
  end if;
  if to_regprocedure('auth.jwt()') is null then
    create function auth.jwt() returns jsonb language sql stable as $f$
      select coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb
    $f$;
  end if;
end
$$;

do $$
begin
  grant usage on schema auth to anon, authenticated;
exception when insufficient_privilege then null;
end
$$;
