import { randomBytes, randomUUID } from 'node:crypto'
import { pkceMatches } from '../../crypto.ts'
import type { Queryable } from '../../db/db.ts'
import { OAuthServerError } from './errors.ts'
import { hashSecret } from './clients.ts'

export interface AuthorizationRow {
  id: string
  client_id: string
  user_id: string | null
  redirect_uri: string
  scope: string
  state: string | null
  resource: string | null
  nonce: string | null
  code_challenge: string
  code_challenge_method: string
  status: 'pending' | 'approved' | 'denied' | 'used'
  code_hash: string | null
  created_at: Date
  expires_at: Date
  approved_at: Date | null
}

export interface NewAuthorization {
  clientId: string
  redirectUri: string
  scope: string
  state: string | undefined
  resource: string | undefined
  nonce: string | undefined
  codeChallenge: string
  codeChallengeMethod: string
  ttlSeconds: number
}

export async function createAuthorization(db: Queryable, input: NewAuthorization): Promise<AuthorizationRow> {
  const { rows } = await db.query<AuthorizationRow>(
    `insert into embedded_auth.oauth_authorizations (id, client_id, redirect_uri, scope, state, resource, nonce, code_challenge, code_challenge_method, expires_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(secs => $10)) returning *`,
    [randomUUID(), input.clientId, input.redirectUri, input.scope, input.state ?? null, input.resource ?? null, input.nonce ?? null,
      input.codeChallenge, input.codeChallengeMethod, input.ttlSeconds],
  )
  return rows[0]!
}

/** A pending authorization that has not expired, or nothing. */
export async function findPendingAuthorization(db: Queryable, id: unknown): Promise<AuthorizationRow | undefined> {
  if (typeof id !== 'string' || !/^[0-9a-f-]{36}$/i.test(id)) return undefined
  const { rows } = await db.query<AuthorizationRow>(
    "select * from embedded_auth.oauth_authorizations where id = $1 and status = 'pending' and expires_at > now() for update",
    [id],
  )
  return rows[0]
}

function withParams(target: string, params: Record<string, string | null | undefined>): string {
  const url = new URL(target)
  for (const [key, value] of Object.entries(params)) if (value != null) url.searchParams.set(key, value)
  return url.toString()
}

export async function consentCovers(db: Queryable, userId: string, clientId: string, scope: string): Promise<boolean> {
  const { rows } = await db.query<{ scopes: string }>('select scopes from embedded_auth.oauth_consents where user_id = $1 and client_id = $2', [userId, clientId])
  if (!rows[0]) return false
  const granted = new Set(rows[0].scopes.split(' '))
  return scope.split(' ').every((s) => granted.has(s))
}

/** Approves for `userId`: issues the code (kept hashed), records the consent, says where to go. */
export async function approve(tx: Queryable, authorization: AuthorizationRow, userId: string): Promise<string> {
  const code = randomBytes(32).toString('base64url')
  await tx.query(
    "update embedded_auth.oauth_authorizations set status = 'approved', user_id = $2, code_hash = $3, approved_at = now() where id = $1",
    [authorization.id, userId, hashSecret(code)],
  )
  await tx.query(
    `insert into embedded_auth.oauth_consents (user_id, client_id, scopes) values ($1, $2, $3)
     on conflict (user_id, client_id) do update set scopes = excluded.scopes, granted_at = now()`,
    [userId, authorization.client_id, authorization.scope],
  )
  return withParams(authorization.redirect_uri, { code, state: authorization.state })
}

export async function deny(tx: Queryable, authorization: AuthorizationRow, userId: string): Promise<string> {
  await tx.query("update embedded_auth.oauth_authorizations set status = 'denied', user_id = $2 where id = $1", [authorization.id, userId])
  return withParams(authorization.redirect_uri, { error: 'access_denied', error_description: 'User denied the request', state: authorization.state })
}


/**
 * Redeems an authorization code for the client that got it. Single use: the row is marked
 * used in the caller's transaction, together with the session it starts.
 */
export async function redeemCode(
  tx: Queryable,
  input: { code: string; clientId: string; redirectUri: string | undefined; codeVerifier: string },
): Promise<AuthorizationRow> {
  const { rows } = await tx.query<AuthorizationRow>('select * from embedded_auth.oauth_authorizations where code_hash = $1 for update', [hashSecret(input.code)])
  const authorization = rows[0]
  const invalid = (why: string) => new OAuthServerError('invalid_grant', why)
  if (!authorization || authorization.status !== 'approved') throw invalid('Invalid authorization code')
  if (new Date(authorization.expires_at).getTime() < Date.now()) throw invalid('Authorization code has expired')
  if (authorization.client_id !== input.clientId) throw invalid('Authorization code was issued to another client')
  if (input.redirectUri !== undefined && input.redirectUri !== authorization.redirect_uri) throw invalid('redirect_uri does not match the authorization request')
  if (!input.codeVerifier) throw new OAuthServerError('invalid_request', 'code_verifier is required')
  if (!pkceMatches(input.codeVerifier, authorization.code_challenge, authorization.code_challenge_method)) throw invalid('PKCE verification failed')
  await tx.query("update embedded_auth.oauth_authorizations set status = 'used', code_hash = null where id = $1", [authorization.id])
  await tx.query('update embedded_auth.oauth_clients set proven_at = now() where id = $1 and proven_at is null', [authorization.client_id])
  return authorization
}
