import type { UserContext } from '../auth/user-context.ts'
import type { Db, Queryable } from './db.ts'

/**
 * Runs `work` in a transaction as the database role `authenticated` with the caller's verified
 * claims in `request.jwt.claims`, the way PostgREST does: `auth.uid()` then names the caller and
 * row-level security decides what the statements may see and change.
 */
export function asUser<T>(db: Db, user: UserContext, work: (tx: Queryable) => Promise<T>): Promise<T> {
  const claims = { ...user.claims, sub: user.userId, role: 'authenticated' }
  return db.transaction(async (tx) => {
    await tx.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claims)])
    return work(tx)
  })
}
