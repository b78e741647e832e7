import type { UserContext } from '../../src/auth/user-context.ts'
import { asUser } from '../../src/db/as-user.ts'
import type { Db, QueryResult } from '../../src/db/db.ts'
import type { TestUser } from './mcp.ts'

export function contextOf(user: TestUser): UserContext {
  return {
    userId: user.id, email: user.email, role: 'authenticated', sessionId: undefined, aal: 'aal1', claims: { sub: user.id },
    accessToken: user.token, expiresAt: Math.floor(Date.now() / 1000) + 600, scopes: [], mode: 'jwt',
  }
}

export type SqlAs = (sql: string, params?: unknown[]) => Promise<QueryResult<any>>

/** One statement in its own transaction as `authenticated` with the user's claims: what PostgREST would run. */
export const sqlAs = (db: Db, user: TestUser): SqlAs => (sql, params = []) => asUser(db, contextOf(user), (tx) => tx.query(sql, params))
