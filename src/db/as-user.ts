import type { UserContext } from '../auth/user-context.ts'
import { EntityError } from '../entities/errors.ts'
import type { Db, Queryable } from './db.ts'

/** The only database role the policies are written for. */
const SERVED_ROLE = 'authenticated'

/**
 * Runs `work` in a transaction as the database role `authenticated` with the caller's verified
 * claims in `request.jwt.claims`, the way PostgREST does: `auth.uid()` then names the caller and
 * row-level security decides what the statements may see and change.
 */
export function asUser<T>(db: Db, user: UserContext, work: (tx: Queryable) => Promise<T>): Promise<T> {
  const refused = refusal(user)
  if (refused) return Promise.reject(refused)
  return db.transaction(work, { settings: settingsOf(user) })
}

/**
 * As `asUser`, for work of one statement (a read, a page, a search): that statement and the
 * caller's role and claims go to the database in one call. Each statement `work` sends runs
 * in a transaction of its own, so work of several statements belongs in `asUser`.
 */
export function asUserOnce<T>(db: Db, user: UserContext, work: (tx: Queryable) => Promise<T>): Promise<T> {
  const refused = refusal(user)
  if (refused) return Promise.reject(refused)
  const settings = settingsOf(user)
  return work({
    query: (sql, params = []) => db.queryIn(sql, params, { settings }),
    exec: (sql) => db.transaction((tx) => tx.exec(sql), { settings }),
  })
}

// Another role (a restricted custom one, service_role) would be widened to authenticated:
// such tokens are refused rather than served with rights their role may not have.
function refusal(user: UserContext): EntityError | undefined {
  if (user.role === SERVED_ROLE) return undefined
  return new EntityError('forbidden', `the tools serve signed-in users (role ${SERVED_ROLE}); this token has role ${JSON.stringify(user.role.slice(0, 64))}`)
}

const settingsOf = (user: UserContext) => ({ role: SERVED_ROLE, 'request.jwt.claims': claimsJson(user) })

// A UserContext stands for one verified token and is reused while that token is cached, so
// its claims are serialised once.
const serialisedClaims = new WeakMap<UserContext, string>()

function claimsJson(user: UserContext): string {
  let json = serialisedClaims.get(user)
  if (json === undefined) {
    json = JSON.stringify({ ...user.claims, sub: user.userId, role: SERVED_ROLE })
    serialisedClaims.set(user, json)
  }
  return json
}
