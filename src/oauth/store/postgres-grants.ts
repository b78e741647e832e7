import type { Db, Queryable } from '../../db/db.ts'
import type { UpstreamSession } from '../upstream.ts'
import { sha256 } from '../../crypto.ts'
import type { AuthorizationCode, CodeStore, RefreshClaim, RefreshGrant, RefreshTokenStore, TokenResponse } from './types.ts'

/**
 * The two stores whose operations must be atomic across instances: redeeming a code and
 * rotating a refresh token. Both lock the row (`for update`) for the whole decision.
 */

const insertRefreshToken = (q: Queryable, tokenHash: string, grant: RefreshGrant) =>
  q.query(
    `insert into atoms_oauth.refresh_tokens (token_hash, client_id, user_id, scope, resource) values ($1, $2, $3, $4, $5)
     on conflict (token_hash) do nothing`,
    [tokenHash, grant.clientId, grant.userId, grant.scope, grant.resource],
  )

/** A claim older than this was left by an instance that died mid-rotation; it can be taken over. */
const STALE_CLAIM_SECONDS = 30

export function codes(db: Db): CodeStore {
  const toCode = (row: any): AuthorizationCode => ({
    clientId: row.client_id,
    redirectUri: row.redirect_uri,
    codeChallenge: row.code_challenge,
    scope: row.scope,
    resource: row.resource,
    userId: row.user_id,
    session: row.session as UpstreamSession,
  })
  return {
    async create(codeHash, code, ttlSeconds) {
      await db.query(
        `insert into atoms_oauth.authorization_codes
           (code_hash, client_id, redirect_uri, code_challenge, scope, resource, user_id, session, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9))`,
        [codeHash, code.clientId, code.redirectUri, code.codeChallenge, code.scope, code.resource, code.userId, JSON.stringify(code.session), ttlSeconds],
      )
    },
    async redeem(codeHash, verifierHash, replaySeconds, check, respond) {
      return db.transaction(async (tx) => {
        const { rows } = await tx.query(
          `select *, used_at > now() - make_interval(secs => $2) as in_replay_window, expires_at <= now() as expired
           from atoms_oauth.authorization_codes where code_hash = $1 for update`,
          [codeHash, replaySeconds],
        )
        const row = rows[0]
        if (!row) return undefined
        const code = toCode(row)
        if (row.used_at) {
          if (row.in_replay_window && row.response && row.verifier_hash === verifierHash) return { outcome: 'replayed' as const, response: row.response as TokenResponse }
          // Any other second use: the code leaked. Forget the answer; the caller revokes it.
          await tx.query('update atoms_oauth.authorization_codes set response = null where code_hash = $1', [codeHash])
          return { outcome: 'reused' as const, code, response: (row.response as TokenResponse | null) ?? undefined }
        }
        if (row.expired) return undefined
        check(code)
        const response = respond(code)
        await tx.query('update atoms_oauth.authorization_codes set used_at = now(), verifier_hash = $2, response = $3 where code_hash = $1', [
          codeHash, verifierHash, JSON.stringify(response),
        ])
        if (response.refresh_token) await insertRefreshToken(tx, sha256(response.refresh_token), code)
        return { outcome: 'issued' as const, response, code }
      })
    },
  }
}

export function refreshTokens(db: Db): RefreshTokenStore {
  return {
    async find(tokenHash) {
      const { rows } = await db.query('select * from atoms_oauth.refresh_tokens where token_hash = $1', [tokenHash])
      const row = rows[0]
      if (!row) return undefined
      return { clientId: row.client_id, userId: row.user_id, scope: row.scope, resource: row.resource, active: !row.rotated_at && !row.revoked_at }
    },
    async claim(tokenHash, clientId, replaySeconds): Promise<RefreshClaim> {
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
          if (row.in_replay_window && row.successor) return { kind: 'replay', response: row.successor as TokenResponse }
          return { kind: 'reused' }
        }
        if (row.claim_fresh) return { kind: 'busy' }
        await tx.query('update atoms_oauth.refresh_tokens set rotating_since = now() where token_hash = $1', [tokenHash])
        return { kind: 'claimed', grant: { clientId: row.client_id, userId: row.user_id, scope: row.scope, resource: row.resource } }
      })
    },
    async complete(tokenHash, response, successorHash, grant) {
      await db.transaction(async (tx) => {
        await tx.query('update atoms_oauth.refresh_tokens set rotated_at = now(), rotating_since = null, successor = $2 where token_hash = $1', [
          tokenHash, JSON.stringify(response),
        ])
        await insertRefreshToken(tx, successorHash, grant)
      })
    },
    async release(tokenHash) {
      await db.query('update atoms_oauth.refresh_tokens set rotating_since = null where token_hash = $1', [tokenHash])
    },
    async revoke(tokenHash) {
      await db.query('update atoms_oauth.refresh_tokens set revoked_at = now(), successor = null where token_hash = $1 and revoked_at is null', [tokenHash])
    },
  }
}
