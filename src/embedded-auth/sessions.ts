import { randomUUID } from 'node:crypto'
import { sha256 } from '../crypto.ts'
import type { Queryable } from '../db/db.ts'
import { GoTrueError, validationFailed } from './errors.ts'
import { refreshTokenFor } from './keys.ts'

export interface AmrEntry {
  method: string
  timestamp: number
}

export interface SessionRow {
  id: string
  user_id: string
  aal: string
  amr: AmrEntry[]
  created_at: Date
  /** Set for sessions started through the OAuth server: they go into the token as claims. */
  oauth_client_id?: string | null
  scope?: string | null
}

interface RefreshTokenRow {
  id: string
  user_id: string
  session_id: string
  parent_id: string | null
  revoked: boolean
  updated_at: Date
}

const hashToken = sha256

/** Starts a session; as in GoTrue, every session issued is a sign-in, so `last_sign_in_at` moves too. */
export async function createSession(tx: Queryable, userId: string, method: string, oauth?: { clientId: string; scope: string }): Promise<SessionRow> {
  const amr: AmrEntry[] = [{ method, timestamp: Math.floor(Date.now() / 1000) }]
  const { rows } = await tx.query<SessionRow>(
    `with signed_in as (update embedded_auth.users set last_sign_in_at = now() where id = $2)
     insert into embedded_auth.sessions (id, user_id, amr, oauth_client_id, scope) values ($1, $2, $3, $4, $5) returning *`,
    [randomUUID(), userId, JSON.stringify(amr), oauth?.clientId ?? null, oauth?.scope ?? null],
  )
  return rows[0]!
}

/** Issues a refresh token; only its hash is stored, the token is derived from the row id. */
export async function issueRefreshToken(tx: Queryable, secret: Buffer, session: Pick<SessionRow, 'id' | 'user_id'>, parentId: string | null): Promise<string> {
  const id = randomUUID()
  const token = refreshTokenFor(secret, id)
  await tx.query(
    'insert into embedded_auth.refresh_tokens (id, token_hash, user_id, session_id, parent_id) values ($1, $2, $3, $4, $5)',
    [id, hashToken(token), session.user_id, session.id, parentId],
  )
  return token
}

export type RefreshOutcome =
  | { ok: true; session: SessionRow; refreshToken: string }
  | { ok: false; error: GoTrueError }

/**
 * Rotates a refresh token with GoTrue's rules: a revoked token that is the parent of the
 * session's active token gets that active token back (the client failed to save it); one
 * revoked within the reuse interval gets a fresh child (concurrent refreshes); any other
 * reuse revokes the whole session and fails. Failures that changed rows come back as
 * values so the caller commits those changes before answering.
 */
export async function rotateRefreshToken(tx: Queryable, secret: Buffer, token: string, reuseIntervalSeconds: number): Promise<RefreshOutcome> {
  if (!/^[a-z0-9]{12}$/.test(token)) throw validationFailed('Refresh token is not valid')
  const { rows } = await tx.query<RefreshTokenRow>('select * from embedded_auth.refresh_tokens where token_hash = $1 for update', [hashToken(token)])
  const current = rows[0]
  if (!current) throw new GoTrueError(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found')
  const session = (await tx.query<SessionRow>('select * from embedded_auth.sessions where id = $1 for update', [current.session_id])).rows[0]
  if (!session) throw new GoTrueError(400, 'session_not_found', 'Invalid Refresh Token: No Valid Session Found')

  if (current.revoked) {
    const active = (
      await tx.query<RefreshTokenRow>(
        'select * from embedded_auth.refresh_tokens where session_id = $1 and revoked = false order by created_at desc limit 1',
        [session.id],
      )
    ).rows[0]
    if (active && active.parent_id === current.id) {
      return { ok: true, session, refreshToken: refreshTokenFor(secret, active.id) }
    }
    const revokedFor = (Date.now() - new Date(current.updated_at).getTime()) / 1000
    if (revokedFor > reuseIntervalSeconds) {
      await tx.query('update embedded_auth.refresh_tokens set revoked = true, updated_at = now() where session_id = $1 and revoked = false', [session.id])
      return { ok: false, error: new GoTrueError(400, 'refresh_token_already_used', 'Invalid Refresh Token: Already Used') }
    }
  } else {
    await tx.query('update embedded_auth.refresh_tokens set revoked = true, updated_at = now() where id = $1', [current.id])
  }
  await tx.query('update embedded_auth.sessions set refreshed_at = now(), updated_at = now() where id = $1', [session.id])
  return { ok: true, session, refreshToken: await issueRefreshToken(tx, secret, session, current.id) }
}

export type LogoutScope = 'global' | 'local' | 'others'

export async function endSessions(tx: Queryable, userId: string, sessionId: string | undefined, scope: LogoutScope): Promise<void> {
  if (!sessionId || scope === 'global') {
    await tx.query('delete from embedded_auth.sessions where user_id = $1', [userId])
  } else if (scope === 'local') {
    await tx.query('delete from embedded_auth.sessions where id = $1 and user_id = $2', [sessionId, userId])
  } else {
    await tx.query('delete from embedded_auth.sessions where user_id = $1 and id <> $2', [userId, sessionId])
  }
}
