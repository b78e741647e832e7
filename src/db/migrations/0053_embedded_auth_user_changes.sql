-- What PUT /user and the admin users API of the embedded auth keep beyond sign-up: an email
-- change waiting for confirmation (GoTrue's `email_change`, shown as `new_email`) and the
-- time a user was soft-deleted (the row stays, its email, password and metadata do not).
alter table embedded_auth.users add column if not exists email_change text;
alter table embedded_auth.users add column if not exists email_change_sent_at timestamptz;
alter table embedded_auth.users add column if not exists deleted_at timestamptz;
