import { randomBytes } from 'node:crypto'
import type { Db } from '../../db/db.ts'
import type { ClientMetadata } from '../client-metadata.ts'
import type { UpstreamSession } from '../upstream.ts'
import type { AuthorizationStore, ClientRecord, ClientStore, ConsentStore, MetadataDocumentCache, OAuthStore, PendingAuthorization } from './types.ts'
import { codes, refreshTokens } from './postgres-grants.ts'
import { scopeWithin } from '../scopes.ts'
import { sha256 } from '../../crypto.ts'
import { seal, unseal } from './sealed.ts'
import { tokenKey } from '../token-key.ts'

/** Registrations not used for this long are deleted by the sweep. */
export const CLIENT_IDLE_DAYS = 30
/** How long a rotated or revoked refresh token row is kept to recognise a late reuse. */
const SPENT_TOKEN_DAYS = 7

const unix = (value: Date | string) => Math.floor(new Date(value).getTime() / 1000)

function clients(db: Db): ClientStore {
  const toRecord = (row: any): ClientRecord => ({
    clientId: row.client_id,
    secretHash: row.secret_hash,
    metadata: row.metadata as ClientMetadata,
    issuedAt: unix(row.created_at),
  })
  return {
    async create({ clientId, secretHash, metadata }) {
      const { rows } = await db.query('insert into atoms_oauth.clients (client_id, secret_hash, metadata) values ($1, $2, $3) returning *', [
        clientId, secretHash, JSON.stringify(metadata),
      ])
      return toRecord(rows[0])
    },
    async find(clientId) {
      const { rows } = await db.query(
        `update atoms_oauth.clients set last_used_at = now()
         where client_id = $1 and last_used_at > now() - make_interval(days => $2) returning *`,
        [clientId, CLIENT_IDLE_DAYS],
      )
      return rows[0] ? toRecord(rows[0]) : undefined
    },
    async proven(clientId) {
      const { rows } = await db.query('select 1 from atoms_oauth.proven_clients where client_id = $1', [clientId])
      return rows.length > 0
    },
  }
}

function authorizations(db: Db): AuthorizationStore {
  const toRequest = (handle: string, row: any): PendingAuthorization => ({
    clientId: row.client_id,
    redirectUri: row.redirect_uri,
    state: row.state ?? undefined,
    codeChallenge: row.code_challenge,
    scope: row.scope,
    resource: row.resource,
    browserHash: row.browser_hash,
    promptConsent: row.prompt_consent,
    providerVerifier: unseal<string>(handle, 'provider verifier', row.sealed_provider_verifier),
    user: row.user_id ? { id: row.user_id, email: row.user_email ?? undefined } : undefined,
    session: unseal<UpstreamSession>(handle, 'pending session', row.sealed_session),
  })
  return {
    async create(handle, request, ttlSeconds) {
      await db.query(
        `insert into atoms_oauth.pending_authorizations
           (handle_hash, client_id, redirect_uri, state, code_challenge, scope, resource, browser_hash, prompt_consent, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(secs => $10))`,
        [
          sha256(handle), request.clientId, request.redirectUri, request.state ?? null, request.codeChallenge, request.scope, request.resource,
          request.browserHash, request.promptConsent, ttlSeconds,
        ],
      )
    },
    async find(handle) {
      const { rows } = await db.query('select * from atoms_oauth.pending_authorizations where handle_hash = $1 and expires_at > now()', [sha256(handle)])
      return rows[0] ? toRequest(handle, rows[0]) : undefined
    },
    async update(handle, patch) {
      const sets: string[] = []
      const values: unknown[] = [sha256(handle)]
      const set = (column: string, value: unknown) => {
        values.push(value)
        sets.push(`${column} = $${values.length}`)
      }
      if ('providerVerifier' in patch) set('sealed_provider_verifier', patch.providerVerifier ? seal(handle, 'provider verifier', patch.providerVerifier) : null)
      if ('user' in patch) {
        set('user_id', patch.user?.id ?? null)
        set('user_email', patch.user?.email ?? null)
      }
      if ('session' in patch) set('sealed_session', patch.session ? seal(handle, 'pending session', patch.session) : null)
      if (sets.length === 0) return
      await db.query(`update atoms_oauth.pending_authorizations set ${sets.join(', ')} where handle_hash = $1`, values)
    },
    async take(handle) {
      const { rows } = await db.query('delete from atoms_oauth.pending_authorizations where handle_hash = $1 and expires_at > now() returning *', [sha256(handle)])
      return rows[0] ? toRequest(handle, rows[0]) : undefined
    },
  }
}

function consents(db: Db): ConsentStore {
  return {
    async covers(userId, clientId, scope) {
      const { rows } = await db.query<{ scope: string }>('select scope from atoms_oauth.consents where user_id = $1 and client_id = $2', [userId, clientId])
      return rows.length > 0 && scopeWithin(scope, rows[0]!.scope)
    },
    async grant(userId, clientId, scope) {
      await db.query(
        `insert into atoms_oauth.consents (user_id, client_id, scope) values ($1, $2, $3)
         on conflict (user_id, client_id) do update set scope = excluded.scope, granted_at = now()`,
        [userId, clientId, scope],
      )
    },
  }
}

function metadataDocuments(db: Db): MetadataDocumentCache {
  return {
    async get(url) {
      const { rows } = await db.query('select document, failure from atoms_oauth.metadata_documents where url = $1 and expires_at > now()', [url])
      const row = rows[0]
      if (!row) return undefined
      return row.document ? { metadata: row.document as ClientMetadata } : { failure: String(row.failure ?? 'refused') }
    },
    async put(url, document, ttlSeconds) {
      const [metadata, failure] = 'metadata' in document ? [JSON.stringify(document.metadata), null] : [null, document.failure]
      await db.query(
        `insert into atoms_oauth.metadata_documents (url, document, failure, expires_at) values ($1, $2, $3, now() + make_interval(secs => $4))
         on conflict (url) do update set document = excluded.document, failure = excluded.failure, expires_at = excluded.expires_at`,
        [url, metadata, failure, ttlSeconds],
      )
    },
  }
}

/**
 * A named random secret shared by every instance on the database, made by whichever asks
 * first. It needs no token key, so the access-token keys can be read before the store exists.
 */
export function oauthSecrets(db: Db): (name: string) => Promise<Buffer> {
  return async (name) => {
    await db.query('insert into atoms_oauth.secrets (name, value) values ($1, $2) on conflict (name) do nothing', [name, randomBytes(32).toString('base64url')])
    const { rows } = await db.query<{ value: string }>('select value from atoms_oauth.secrets where name = $1', [name])
    return Buffer.from(rows[0]!.value, 'base64url')
  }
}

/** `key`: the token key (loadTokenKey), which the database never holds. */
export function postgresOAuthStore(db: Db, key: Buffer): OAuthStore {
  const keyed = tokenKey(key)
  return {
    clients: clients(db),
    authorizations: authorizations(db),
    codes: codes(db, keyed),
    refreshTokens: refreshTokens(db, keyed),
    consents: consents(db),
    metadataDocuments: metadataDocuments(db),
    secret: oauthSecrets(db),
    async hit(bucket, windowSeconds) {
      const { rows } = await db.query<{ hits: number }>(
        `insert into atoms_oauth.rate_limits (bucket, window_start, hits) values ($1, now(), 1)
         on conflict (bucket) do update set
           hits = case when atoms_oauth.rate_limits.window_start <= now() - make_interval(secs => $2) then 1 else atoms_oauth.rate_limits.hits + 1 end,
           window_start = case when atoms_oauth.rate_limits.window_start <= now() - make_interval(secs => $2) then now() else atoms_oauth.rate_limits.window_start end
         returning hits`,
        [bucket, windowSeconds],
      )
      return Number(rows[0]!.hits)
    },
    async undoHit(bucket) {
      await db.query('update atoms_oauth.rate_limits set hits = greatest(hits - 1, 0) where bucket = $1', [bucket])
    },
    async sweep() {
      const statements = [
        'delete from atoms_oauth.pending_authorizations where expires_at <= now()',
        'delete from atoms_oauth.authorization_codes where used_at is null and expires_at <= now()',
        // Used codes are kept a while so a late second use is still recognised as reuse.
        "delete from atoms_oauth.authorization_codes where expires_at <= now() - interval '1 hour'",
        `delete from atoms_oauth.refresh_tokens where coalesce(revoked_at, rotated_at) <= now() - make_interval(days => ${SPENT_TOKEN_DAYS})`,
        "update atoms_oauth.refresh_tokens set sealed_successor = null where sealed_successor is not null and rotated_at <= now() - interval '1 minute'",
        `delete from atoms_oauth.clients where last_used_at <= now() - make_interval(days => ${CLIENT_IDLE_DAYS})`,
        `delete from atoms_oauth.proven_clients where proven_at <= now() - make_interval(days => ${CLIENT_IDLE_DAYS})`,
        "delete from atoms_oauth.rate_limits where window_start <= now() - interval '1 day'",
        'delete from atoms_oauth.metadata_documents where expires_at <= now()',
      ]
      let removed = 0
      for (const sql of statements) removed += (await db.query(sql)).rowCount
      return removed
    },
  }
}
