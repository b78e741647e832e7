import type { FastifyRequest } from 'fastify'
import { safeEqual, sha256 } from '../crypto.ts'
import { authenticateUser } from './authenticate.ts'
import type { AuthContext } from './context.ts'
import { GoTrueError } from './errors.ts'

const BEARER = /^bearer (\S+)$/i

/**
 * Whether a presented key is the service-role key. Digests are compared, not the strings,
 * so the comparison takes as long whatever the length or prefix of what was sent.
 */
export function serviceRoleMatcher(serviceRoleKey: string): (presented: string) => boolean {
  const expected = sha256(serviceRoleKey)
  return (presented) => safeEqual(sha256(presented), expected)
}

/**
 * GoTrue's gate on the admin routes, in its order: a bearer token or 401; then the token is
 * read as a JWT (403 `bad_jwt` when it is none, as the anon key is) and a user's token, even
 * a valid one, is refused with 403 `not_admin`. Only the service-role key passes.
 */
export async function requireServiceRole(request: FastifyRequest, ctx: AuthContext): Promise<void> {
  const header = request.headers.authorization
  const match = typeof header === 'string' ? BEARER.exec(header.trim()) : null
  if (!match) throw new GoTrueError(401, 'no_authorization', 'This endpoint requires a valid Bearer token')
  if (ctx.isServiceRoleKey(match[1]!)) return
  await authenticateUser(request, ctx.db, ctx.verify)
  throw new GoTrueError(403, 'not_admin', 'User not allowed')
}
