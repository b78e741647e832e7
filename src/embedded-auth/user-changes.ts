import { randomUUID } from 'node:crypto'
import type { Queryable } from '../db/db.ts'
import { GoTrueError } from './errors.ts'
import type { UserRow } from './users.ts'

/**
 * Changes to an existing user, shared by `PUT /user` and the admin API. Each runs inside the
 * caller's transaction and leaves the row's `updated_at` current.
 */

export const emailExists = () => new GoTrueError(422, 'email_exists', 'A user with this email address has already been registered')

/** Another user (soft-deleted ones included: their email is gone) already has this email. */
export async function emailTakenByOther(db: Queryable, email: string, userId: string | undefined): Promise<boolean> {
  const { rows } = await db.query('select 1 from embedded_auth.users where email = $1 and id is distinct from $2::uuid', [email, userId ?? null])
  return rows.length > 0
}

/** GoTrue's metadata update: keys with `null` go away, the others are set; the rest stays. */
export async function mergeMetadata(tx: Queryable, userId: string, column: 'raw_user_meta_data' | 'raw_app_meta_data', updates: Record<string, unknown>) {
  const set = Object.fromEntries(Object.entries(updates).filter(([, value]) => value !== null))
  const removed = Object.keys(updates).filter((key) => updates[key] === null)
  await tx.query(`update embedded_auth.users set ${column} = (${column} || $2::jsonb) - $3::text[], updated_at = now() where id = $1`, [
    userId,
    JSON.stringify(set),
    removed,
  ])
}

/**
 * A new password. As GoTrue does, every other session of the user ends (all of them when
 * `keepSessionId` is undefined, as for an administrator's change): whoever knew the old
 * password may be signed in elsewhere.
 */
export async function setPassword(tx: Queryable, userId: string, passwordHash: string, keepSessionId: string | undefined) {
  await tx.query('update embedded_auth.users set encrypted_password = $2, updated_at = now() where id = $1', [userId, passwordHash])
  await tx.query('delete from embedded_auth.sessions where user_id = $1 and id is distinct from $2::uuid', [userId, keepSessionId ?? null])
}

/** Adds `provider` to `app_metadata.providers` when it is not there yet. */
async function addProvider(tx: Queryable, userId: string, provider: string) {
  await tx.query(
    `update embedded_auth.users set raw_app_meta_data = jsonb_set(raw_app_meta_data, '{providers}',
       coalesce(raw_app_meta_data->'providers', '[]'::jsonb) || to_jsonb($2::text))
     where id = $1 and not coalesce(raw_app_meta_data->'providers', '[]'::jsonb) ? $2`,
    [userId, provider],
  )
}

/**
 * Makes `email` the user's confirmed email, as GoTrue does when an email change is confirmed:
 * the email identity follows (one is created for a user who had none), and the user counts
 * as confirmed. The unique index settles a race with another user taking the same address.
 */
export async function applyEmailChange(tx: Queryable, user: Pick<UserRow, 'id'>, email: string, verified: boolean) {
  try {
    await tx.query(
      `update embedded_auth.users set email = $2, email_change = null, email_change_sent_at = null,
         email_confirmed_at = case when $3 then coalesce(email_confirmed_at, now()) else email_confirmed_at end, updated_at = now()
       where id = $1`,
      [user.id, email, verified],
    )
  } catch (error: any) {
    if (error?.code === '23505') throw emailExists()
    throw error
  }
  const updated = await tx.query(
    `update embedded_auth.identities set email = $2, identity_data = identity_data || jsonb_build_object('email', $2::text, 'email_verified', $3::boolean), updated_at = now()
     where user_id = $1 and provider = 'email'`,
    [user.id, email, verified],
  )
  if (updated.rowCount > 0) return
  const identityData = { sub: user.id, email, email_verified: verified, phone_verified: false }
  await tx.query(
    `insert into embedded_auth.identities (id, provider_id, user_id, provider, identity_data, email, created_at, updated_at)
     values ($1, $2, $2, 'email', $3, $4, now(), now())`,
    [randomUUID(), user.id, JSON.stringify(identityData), email],
  )
  await addProvider(tx, user.id, 'email')
}

/** An email change waiting for a confirmation (GoTrue's `new_email`); nothing else moves. */
export async function requestEmailChange(tx: Queryable, userId: string, email: string) {
  await tx.query('update embedded_auth.users set email_change = $2, email_change_sent_at = now(), updated_at = now() where id = $1', [userId, email])
}
