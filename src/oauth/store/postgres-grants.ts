import { randomUUID } from 'node:crypto'
import { decodeJwt } from 'jose'
import type { Db, Queryable } from '../../db/db.ts'
import type { UpstreamSession } from '../upstream.ts'
import { sha256 } from '../../crypto.ts'
import type { TokenKey } from '../token-key.ts'
import type { AuthorizationCode, CodeStore, RefreshClaim, RefreshGrant, RefreshTokenStore, TokenResponse } from './types.ts'
import { seal, unseal } from './sealed.ts'

/**
 * The two stores whose operations must be atomic across instances: redeeming a code and
 * rotating a refresh token. Both lock the row (`for update`) for the whole decision.
 * A refresh token's row is found and sealed under the token key (see token-key.ts), never
 * under the token alone: with OAUTH_ACCESS_TOKENS=supabase the token is Supabase's, and short.
 */

/** The Supabase session an access token belongs to, from its (already verified) claims. */
function sessionIdOf(accessToken: string): string | null {
  try {
    const sessionId = decodeJwt(accessToken).session_id
    return typeof sessionId === 'string' ? sessionId : null
  } catch {
    return null
  }
}

const insertRefreshToken = (
  q: Queryable, key: TokenKey, token: string, grant: Omit<RefreshGrant, 'sessionId'> & { grantId: string }, session: UpstreamSession,
) =>
  q.query(
    `insert into atoms_oauth.refresh_tokens (token_hash, client_id, user_id, scope, resource, session_id, grant_id, sealed_session)
     values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (token_hash) do nothing`,
    [
      key.lookup(token), grant.clientId, grant.userId, grant.scope, grant.resource, sessionIdOf(session.accessToken), grant.grantId,
      seal(key.sealing(token), 'refresh session', session),
    ],
  )

const toGrant = (row: any): RefreshGrant => ({
  clientId: row.client_id, userId: row.user_id, scope: row.scope, resource: row.resource, sessionId: row.session_id ?? undefined,
  grantId: row.grant_id ?? undefined,
})

const sessionOf = (key: TokenKey, token: string, row: any) => unseal<UpstreamSession>(key.sealing(token), 'refresh session', row.sealed_session)

/** A claim older than this was left by an instance that died mid-rotation; it can be taken over. */
const STALE_CLAIM_SECONDS = 30

export function codes(db: Db, key: TokenKey): CodeStore {
  // A row is found by the hash of the code and opened with the code itself.
  const toCode = (code: string, row: any): AuthorizationCode | undefined => {
    const session = unseal<UpstreamSession>(code, 'code session', row.sealed_session)
    if (!session) return undefined
    return {
      clientId: row.client_id,
      redirectUri: row.redirect_uri,
      codeChallenge: row.code_challenge,
      scope: row.scope,
      resource: row.resource,
      userId: row.user_id,
      session,
    }
  }
  return {
    async create(code, issued, ttlSeconds) {
      await db.query(
        `insert into atoms_oauth.authorization_codes
           (code_hash, client_id, redirect_uri, code_challenge, scope, resource, user_id, sealed_session, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9))`,
        [
          sha256(code), issued.clientId, issued.redirectUri, issued.codeChallenge, issued.scope, issued.resource, issued.userId,
          seal(code, 'code session', issued.session), ttlSeconds,
        ],
      )
    },
    async redeem(presented, verifierHash, replaySeconds, check, respond) {
      const codeHash = sha256(presented)
      return db.transaction(async (tx) => {
        const { rows } = await tx.query(
          `select *, used_at > now() - make_interval(secs => $2) as in_replay_window, expires_at <= now() as expired
           from atoms_oauth.authorization_codes where code_hash = $1 for update`,
          [codeHash, replaySeconds],
        )
        const row = rows[0]
        const code = row ? toCode(presented, row) : undefined
        if (!row || !code) return undefined
        // Kept sealed with the code until the row goes: a replay within the window gets it
        // again, and a later reuse needs it to revoke what the code gave out.
        const response = unseal<TokenResponse>(presented, 'code response', row.sealed_response)
        if (row.used_at) {
          if (row.in_replay_window && response && row.verifier_hash === verifierHash) return { outcome: 'replayed' as const, response }
          // Any other second use: the code leaked. Forget the answer; the caller revokes it.
          await tx.query('update atoms_oauth.authorization_codes set sealed_response = null where code_hash = $1', [codeHash])
          return { outcome: 'reused' as const, code, response }
        }
        if (row.expired) return undefined
        check(code)
        const issued = respond(code)
        await tx.query('update atoms_oauth.authorization_codes set used_at = now(), verifier_hash = $2, sealed_response = $3 where code_hash = $1', [
          codeHash, verifierHash, seal(presented, 'code response', issued),
        ])
        if (issued.refresh_token) await insertRefreshToken(tx, key, issued.refresh_token, { ...code, grantId: randomUUID() }, code.session)
        await tx.query(
          'insert into atoms_oauth.proven_clients (client_id) values ($1) on conflict (client_id) do update set proven_at = now()',
          [code.clientId],
        )
        return { outcome: 'issued' as const, response: issued, code }
      })
    },
  }
}

export function refreshTokens(db: Db, key: TokenKey): RefreshTokenStore {
  return {
    async find(token) {
      const { rows } = await db.query('select * from atoms_oauth.refresh_tokens where token_hash = $1', [key.lookup(token)])
      const row = rows[0]
      if (!row) return undefined
      return { ...toGrant(row), active: !row.rotated_at && !row.revoked_at, session: sessionOf(key, token, row) }
    },
    async claim(token, clientId, replaySeconds): Promise<RefreshClaim> {
      const tokenHash = key.lookup(token)
      return db.transaction(async (tx) => {
        const { rows } = await tx.query(
          `select *, rotated_at > now() - make_interval(secs => $2) as in_replay_window,
                  rotating_since > now() - make_interval(secs => $3) as claim_fresh
           from atoms_oauth.refresh_tokens where token_hash = $1 for update`,
          [tokenHash, replaySeconds, STALE_CLAIM_SECONDS],
        )
        const row = rows[0]
        if (!row) return { kind: 'invalid', reason: 'the refresh token is not valid' }
        if (row.client_id !== clientId) return { kind: 'invalid', reason: 'the refresh token was issued to another client' }
        if (row.revoked_at) return { kind: 'invalid', reason: 'the refresh token has been revoked' }
        if (row.rotated_at) {
          const successor = row.in_replay_window ? unseal<TokenResponse>(key.sealing(token), 'refresh successor', row.sealed_successor) : undefined
          if (successor) return { kind: 'replay', response: successor }
          return { kind: 'reused', grant: toGrant(row), session: sessionOf(key, token, row) }
        }
        if (row.claim_fresh) return { kind: 'busy' }
        await tx.query('update atoms_oauth.refresh_tokens set rotating_since = now() where token_hash = $1', [tokenHash])
        return { kind: 'claimed', grant: toGrant(row), session: sessionOf(key, token, row) }
      })
    },
    async complete(token, response, grant, session) {
      await db.transaction(async (tx) => {
        await tx.query('update atoms_oauth.refresh_tokens set rotated_at = now(), rotating_since = null, sealed_successor = $2 where token_hash = $1', [
          key.lookup(token), seal(key.sealing(token), 'refresh successor', response),
        ])
        // A row from before grant ids starts one here, for the rest of its chain.
        await insertRefreshToken(tx, key, response.refresh_token, { ...grant, grantId: grant.grantId ?? randomUUID() }, session)
      })
    },
    async release(token) {
      await db.query('update atoms_oauth.refresh_tokens set rotating_since = null where token_hash = $1', [key.lookup(token)])
    },
    async revoke(token) {
      await db.query(
        `update atoms_oauth.refresh_tokens set revoked_at = now(), sealed_successor = null, sealed_session = null
         where revoked_at is null and (token_hash = $1 or grant_id = (select grant_id from atoms_oauth.refresh_tokens where token_hash = $1))`,
        [key.lookup(token)],
      )
    },
    async dropUnkeyed() {
      return (await db.query('delete from atoms_oauth.refresh_tokens where not keyed')).rowCount
    },
  }
}
