import { pkceMatches } from '../../crypto.ts'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { decodeJwt } from 'jose'
import { bodyText, credentialFields } from '../body.ts'
import type { AuthContext } from '../context.ts'
import { GoTrueError, OverRequestRateLimitError, validationFailed } from '../errors.ts'
import { isInternalCall } from '../internal-call.ts'
import { isUuid } from '../authenticate.ts'
import { createSession, issueRefreshToken, rotateRefreshToken } from '../sessions.ts'
import { sessionResponse } from '../tokens.ts'
import { checkPassword, findUserByEmail, findUserById, isBanned, recordSignIn, withIdentities } from '../users.ts'
import { authCodeDigest } from '../flow-codes.ts'
import { unservedGrant } from './disabled-grants.ts'

// The longest a social sign-in may sit between /authorize and the code exchange.
export const FLOW_STATE_TTL_SECONDS = 300

const tokenSchema = {
  // Go's FormValue takes the first of repeated parameters, so an array is accepted here.
  querystring: { type: 'object', properties: { grant_type: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } } },
  body: {
    type: 'object',
    properties: {
      ...credentialFields,
      refresh_token: bodyText,
      auth_code: bodyText,
      code_verifier: bodyText,
    },
  },
} as const

const str = (value: unknown) => (typeof value === 'string' ? value : value == null ? '' : String(value))


export async function tokenRoutes(app: FastifyInstance, { ctx }: { ctx: AuthContext }) {
  const { db, keys, tokens, config } = ctx

  async function passwordGrant(request: FastifyRequest, body: Record<string, unknown>) {
    const email = str(body.email).trim()
    const phone = str(body.phone).trim()
    const password = str(body.password)
    if (email && phone) throw validationFailed('Only an email address or phone number should be provided on login.')
    if (!email && !phone) throw validationFailed('missing email or phone')
    if (phone) throw new GoTrueError(422, 'phone_provider_disabled', 'Phone logins are disabled')
    if (!isInternalCall(request, keys)) {
      const retryAfter = await request.server.loginRateLimiter.attempt(request, email)
      if (retryAfter !== undefined) throw new OverRequestRateLimitError(retryAfter)
    }
    const user = await findUserByEmail(db, email)
    if (!(await checkPassword(password, user?.encrypted_password)) || !user) {
      throw new GoTrueError(400, 'invalid_credentials', 'Invalid login credentials')
    }
    if (!user.email_confirmed_at) throw new GoTrueError(400, 'email_not_confirmed', 'Email not confirmed')
    if (isBanned(user)) throw new GoTrueError(400, 'user_banned', 'User is banned')
    return db.transaction(async (tx) => {
      const session = await createSession(tx, user.id, 'password')
      const refreshToken = await issueRefreshToken(tx, keys.refreshTokenSecret, session, null)
      const signedIn = await withIdentities(tx, await recordSignIn(tx, user.id))
      return sessionResponse(keys, tokens, signedIn, session, refreshToken)
    })
  }

  async function refreshGrant(body: Record<string, unknown>) {
    const presented = str(body.refresh_token)
    if (!presented) throw validationFailed('Refresh token is not valid')
    const outcome = await db.transaction((tx) =>
      rotateRefreshToken(tx, keys.refreshTokenSecret, presented, config.embeddedAuth.refreshTokenReuseIntervalSeconds),
    )
    // A detected reuse has already revoked the family (committed above); now report it.
    if (!outcome.ok) throw outcome.error
    const user = await findUserById(db, outcome.session.user_id)
    if (!user) throw new GoTrueError(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found')
    if (isBanned(user)) throw new GoTrueError(400, 'user_banned', 'Invalid Refresh Token: User Banned')
    return sessionResponse(keys, tokens, await withIdentities(db, user), outcome.session, outcome.refreshToken)
  }

  async function pkceGrant(body: Record<string, unknown>) {
    const authCode = str(body.auth_code)
    const verifier = str(body.code_verifier)
    if (!authCode || !verifier) throw validationFailed('invalid request: both auth code and code verifier should be non-empty')
    const notFound = new GoTrueError(404, 'flow_state_not_found', 'invalid flow state, no valid flow state found')
    if (!isUuid(authCode)) throw notFound
    const result = await db.transaction(async (tx) => {
      const flow = (
        await tx.query<any>('select * from embedded_auth.flow_states where auth_code = $1 and user_id is not null for update', [authCodeDigest(authCode)])
      ).rows[0]
      if (!flow) throw notFound
      const issuedAt = new Date(flow.auth_code_issued_at ?? flow.created_at).getTime()
      if (Date.now() > issuedAt + FLOW_STATE_TTL_SECONDS * 1000) {
        await tx.query('delete from embedded_auth.flow_states where id = $1', [flow.id])
        return { error: new GoTrueError(422, 'flow_state_expired', 'invalid flow state, flow state has expired') }
      }
      const method = str(flow.code_challenge_method).toLowerCase()
      if (method !== 's256' && method !== 'plain') throw new GoTrueError(400, 'bad_code_verifier', 'code challenge method not supported')
      if (!pkceMatches(verifier, str(flow.code_challenge), method)) {
        throw new GoTrueError(400, 'bad_code_verifier', 'code challenge does not match previously saved code verifier')
      }
      // The code is single-use: the row goes in the same transaction that issues the session.
      await tx.query('delete from embedded_auth.flow_states where id = $1', [flow.id])
      const user = await findUserById(tx, flow.user_id)
      if (!user) throw notFound
      if (isBanned(user)) throw new GoTrueError(400, 'user_banned', 'User is banned')
      const session = await createSession(tx, user.id, flow.authentication_method)
      const refreshToken = await issueRefreshToken(tx, keys.refreshTokenSecret, session, null)
      const signedIn = (await findUserById(tx, user.id))!
      return { session: await sessionResponse(keys, tokens, await withIdentities(tx, signedIn), session, refreshToken) }
    })
    if ('error' in result) throw result.error
    return result.session
  }

  app.post('/token', { schema: tokenSchema }, async (request, reply) => {
    // GoTrue dispatches on the query only; supabase-js always puts grant_type there.
    const given = (request.query as { grant_type?: string | string[] }).grant_type
    const grantType = Array.isArray(given) ? given[0] : given
    const body = (request.body ?? {}) as Record<string, unknown>
    let session
    switch (grantType) {
      case 'password':
        session = await passwordGrant(request, body)
        break
      case 'refresh_token':
        session = await refreshGrant(body)
        break
      case 'pkce':
        session = await pkceGrant(body)
        break
      default:
        return unservedGrant(grantType, body, request, ctx)
    }
    // Informational headers GoTrue sets on every grant; the session id is the token's own.
    reply.header('sb-auth-user-id', session.user.id as string)
    reply.header('sb-auth-session-id', String(decodeJwt(session.access_token).session_id))
    return session
  })
}
