import { randomUUID } from 'node:crypto'
import bcrypt from 'bcrypt'
import type { Queryable } from '../db/db.ts'

export interface UserRow {
  id: string
  email: string | null
  phone: string | null
  encrypted_password: string | null
  email_confirmed_at: Date | null
  confirmation_sent_at: Date | null
  last_sign_in_at: Date | null
  raw_app_meta_data: Record<string, unknown>
  raw_user_meta_data: Record<string, unknown>
  banned_until: Date | null
  is_anonymous: boolean
  created_at: Date
  updated_at: Date
  /** An email change waiting for confirmation (GoTrue's `email_change`). */
  email_change?: string | null
  email_change_sent_at?: Date | null
  deleted_at?: Date | null
}

export interface IdentityRow {
  id: string
  provider_id: string
  user_id: string
  provider: string
  identity_data: Record<string, unknown>
  email: string | null
  last_sign_in_at: Date | null
  created_at: Date
  updated_at: Date
}

export interface UserWithIdentities extends UserRow {
  identities: IdentityRow[]
}

// GoTrue's cost; it is also what keeps brute force slow.
const BCRYPT_COST = 10
// A fixed hash compared against when the user does not exist, so both answers take as long.
const DUMMY_HASH = bcrypt.hashSync('atoms-mcp-timing-equaliser', BCRYPT_COST)

export const hashPassword = (password: string) => bcrypt.hash(password, BCRYPT_COST)

/** Compares in constant time relative to whether the user exists. */
export async function checkPassword(password: string, hash: string | null | undefined): Promise<boolean> {
  const ok = await bcrypt.compare(password, hash ?? DUMMY_HASH)
  return ok && !!hash
}

export function isBanned(user: Pick<UserRow, 'banned_until'>, now = new Date()): boolean {
  return !!user.banned_until && user.banned_until > now
}

export async function findUserByEmail(db: Queryable, email: string): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>('select * from embedded_auth.users where email = $1', [email.toLowerCase()])
  return rows[0]
}

export async function findUserById(db: Queryable, id: string): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>('select * from embedded_auth.users where id = $1', [id])
  return rows[0]
}

export async function withIdentities(db: Queryable, user: UserRow): Promise<UserWithIdentities> {
  const { rows } = await db.query<IdentityRow>('select * from embedded_auth.identities where user_id = $1 order by created_at', [user.id])
  return { ...user, identities: rows }
}

/**
 * The user of a verified token, with its identities and whether the token's session still
 * exists, in one statement: `/user` is called for every token a bearer-mode server checks.
 */
export async function findTokenUser(db: Queryable, userId: string, sessionId: string | undefined): Promise<{ user: UserWithIdentities; sessionFound: boolean } | undefined> {
  const { rows } = await db.query<UserRow & { session_found: boolean; identities_json: IdentityJson[] }>(
    `select u.*,
       ($2::uuid is null or exists (select 1 from embedded_auth.sessions s where s.id = $2::uuid)) as session_found,
       coalesce((select json_agg(i order by i.created_at) from embedded_auth.identities i where i.user_id = u.id), '[]'::json) as identities_json
     from embedded_auth.users u where u.id = $1`,
    [userId, sessionId ?? null],
  )
  const row = rows[0]
  if (!row) return undefined
  const { session_found: sessionFound, identities_json: identities, ...user } = row
  return { user: { ...user, identities: identities.map(identityFromJson) }, sessionFound }
}

/** An identity row as `json_agg` gives it: timestamps as text. */
export type IdentityJson = Omit<IdentityRow, 'last_sign_in_at' | 'created_at' | 'updated_at'> & { last_sign_in_at: string | null; created_at: string; updated_at: string }

export const identityFromJson = (identity: IdentityJson): IdentityRow => ({
  ...identity,
  last_sign_in_at: identity.last_sign_in_at === null ? null : new Date(identity.last_sign_in_at),
  created_at: new Date(identity.created_at),
  updated_at: new Date(identity.updated_at),
})

export async function listUsers(db: Queryable): Promise<UserRow[]> {
  return (await db.query<UserRow>('select * from embedded_auth.users order by created_at')).rows
}

export async function deleteUser(db: Queryable, id: string): Promise<boolean> {
  return (await db.query('delete from embedded_auth.users where id = $1', [id])).rowCount > 0
}

export interface NewUser {
  /** Chosen by an administrator; otherwise a new one. */
  id?: string
  email: string
  passwordHash: string | null
  confirmed: boolean
  provider: string
  providerId?: string
  userMetadata?: Record<string, unknown>
  identityData?: Record<string, unknown>
}

/** Creates a user and its first identity in one go (the caller supplies the transaction). */
export async function insertUser(tx: Queryable, input: NewUser): Promise<UserRow> {
  const id = input.id ?? randomUUID()
  const now = new Date()
  const email = input.email.toLowerCase()
  const { rows } = await tx.query<UserRow>(
    `insert into embedded_auth.users (id, email, encrypted_password, email_confirmed_at, confirmation_sent_at,
       raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $8) returning *`,
    [
      id,
      email,
      input.passwordHash,
      input.confirmed ? now : null,
      input.confirmed ? null : now,
      JSON.stringify({ provider: input.provider, providers: [input.provider] }),
      JSON.stringify({ ...(input.userMetadata ?? {}), ...(input.confirmed ? { email_verified: true } : {}) }),
      now,
    ],
  )
  const identityData = {
    ...(input.userMetadata ?? {}),
    ...(input.identityData ?? {}),
    sub: input.providerId ?? id,
    email,
    email_verified: input.provider !== 'email',
    phone_verified: false,
  }
  await tx.query(
    `insert into embedded_auth.identities (id, provider_id, user_id, provider, identity_data, email, last_sign_in_at, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $7, $7)`,
    [randomUUID(), input.providerId ?? id, id, input.provider, JSON.stringify(identityData), email, now],
  )
  return rows[0]!
}

export async function recordSignIn(tx: Queryable, userId: string): Promise<UserRow> {
  const { rows } = await tx.query<UserRow>('update embedded_auth.users set last_sign_in_at = now(), updated_at = now() where id = $1 returning *', [userId])
  return rows[0]!
}

const iso = (value: Date | null | undefined) => (value ? new Date(value).toISOString() : undefined)

/** The User JSON of GoTrue, fields in its order, optional ones left out when empty. */
export function userJson(user: UserWithIdentities) {
  const confirmedAt = user.email_confirmed_at
  const json: Record<string, unknown> = {
    id: user.id,
    aud: 'authenticated',
    role: 'authenticated',
    email: user.email ?? '',
    email_confirmed_at: iso(user.email_confirmed_at),
    phone: user.phone ?? '',
    confirmation_sent_at: iso(user.confirmation_sent_at),
    confirmed_at: iso(confirmedAt),
    new_email: user.email_change || undefined,
    email_change_sent_at: iso(user.email_change_sent_at),
    last_sign_in_at: iso(user.last_sign_in_at),
    app_metadata: user.raw_app_meta_data,
    user_metadata: user.raw_user_meta_data,
    identities: user.identities.map((identity) => ({
      identity_id: identity.id,
      id: identity.provider_id,
      user_id: identity.user_id,
      identity_data: identity.identity_data,
      provider: identity.provider,
      last_sign_in_at: iso(identity.last_sign_in_at),
      created_at: iso(identity.created_at),
      updated_at: iso(identity.updated_at),
      email: identity.email ?? undefined,
    })),
    created_at: iso(user.created_at),
    updated_at: iso(user.updated_at),
    banned_until: iso(user.banned_until),
    deleted_at: iso(user.deleted_at),
    is_anonymous: user.is_anonymous,
  }
  for (const key of Object.keys(json)) if (json[key] === undefined) delete json[key]
  return json
}
