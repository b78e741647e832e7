import type { UserContext } from '../auth/user-context.ts'
import type { Db, Queryable } from './db.ts'

/**
 * Runs `work` in a transaction as the database role `authenticated` with the caller's verified
 * claims in `request.jwt.claims`, the way PostgREST does: `auth.uid()` then names the caller and
 * row-level security decides what the statements may see and change.
 */
export function asUser<T>(db: Db, user: UserContext, work: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(work, { settings: { role: 'authenticated', 'request.jwt.claims': claimsJson(user) } })
}

// A UserContext stands for one verified token and is reused while that token is cached, so
// its claims are serialised once.
const serialisedClaims = new WeakMap<UserContext, string>()

function claimsJson(user: UserContext): string {
  let json = serialisedClaims.get(user)
  if (json === undefined) {
    json = JSON.stringify({ ...user.claims, sub: user.userId, role: 'authenticated' })
    serialisedClaims.set(user, json)
  }
  return json
}
