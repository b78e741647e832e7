import type { FastifyRequest } from 'fastify'
import { errors as joseErrors } from 'jose'
import type { Queryable } from '../db/db.ts'
import { GoTrueError } from './errors.ts'
import { findTokenUser, isBanned, type UserWithIdentities } from './users.ts'

const BEARER = /^bearer (\S+)$/i
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export interface Authenticated {
  user: UserWithIdentities
  claims: Record<string, unknown>
}

function describe(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'token has invalid claims: token is expired'
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature is invalid'
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'signing method is invalid'
  return 'token is malformed'
}

/** GoTrue's middleware chain for user routes, with its checks in its order. */
export async function authenticateUser(
  request: FastifyRequest,
  db: Queryable,
  verify: (token: string) => Promise<Record<string, unknown>>,
): Promise<Authenticated> {
  const header = request.headers.authorization
  const match = typeof header === 'string' ? BEARER.exec(header.trim()) : null
  if (!match) throw new GoTrueError(401, 'no_authorization', 'This endpoint requires a valid Bearer token')
  let claims: Record<string, unknown>
  try {
    claims = await verify(match[1]!)
  } catch (error) {
    throw new GoTrueError(403, 'bad_jwt', `invalid JWT: unable to parse or verify signature, ${describe(error)}`)
  }
  const sub = claims.sub
  if (typeof sub !== 'string' || sub === '') throw new GoTrueError(403, 'bad_jwt', 'invalid claim: missing sub claim')
  if (!UUID.test(sub)) throw new GoTrueError(400, 'bad_jwt', 'invalid claim: sub claim must be a UUID')
  const sessionId = claims.session_id
  const checkedSession = typeof sessionId === 'string' && UUID.test(sessionId) && sessionId !== '00000000-0000-0000-0000-000000000000' ? sessionId : undefined
  const found = await findTokenUser(db, sub, checkedSession)
  if (!found) throw new GoTrueError(403, 'user_not_found', 'User from sub claim in JWT does not exist')
  if (!found.sessionFound) throw new GoTrueError(403, 'session_not_found', 'Session from session_id claim in JWT does not exist')
  if (isBanned(found.user)) throw new GoTrueError(403, 'user_banned', 'User is banned')
  return { user: found.user, claims }
}

export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value)
