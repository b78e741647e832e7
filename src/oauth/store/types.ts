import type { ClientMetadata } from '../client-metadata.ts'
import type { UpstreamSession } from '../upstream.ts'

export interface ClientRecord {
  clientId: string
  /** SHA-256 of the client secret; null for a public client. */
  secretHash: string | null
  metadata: ClientMetadata
  /** Unix seconds. */
  issuedAt: number
}

export interface ClientStore {
  create(client: { clientId: string; secretHash: string | null; metadata: ClientMetadata }): Promise<ClientRecord>
  /** A registration that has not expired; using it keeps it alive. */
  find(clientId: string): Promise<ClientRecord | undefined>
  /** Whether a code issued to this client (registered or metadata document) was ever redeemed. */
  proven(clientId: string): Promise<boolean>
}

export interface PendingAuthorization {
  clientId: string
  redirectUri: string
  state: string | undefined
  codeChallenge: string
  scope: string
  resource: string
  /** SHA-256 of the browser-binding cookie of the browser that started the request. */
  browserHash: string
  /** The client sent prompt=consent: a remembered approval does not count. */
  promptConsent: boolean
  /** This server's PKCE verifier toward Supabase during a social sign-in. */
  providerVerifier: string | undefined
  user: { id: string; email: string | undefined } | undefined
  session: UpstreamSession | undefined
}

/**
 * The stores of requests, codes and refresh tokens are given the secret itself (the handle
 * the browser holds, the code or refresh token the client holds). They keep only its hash,
 * and seal what a row holds of a Supabase session or a token answer under a key derived
 * from it: a read of the database alone yields no usable credential. Refresh tokens (ours,
 * or Supabase's, which are short, with OAUTH_ACCESS_TOKENS=supabase) are hashed and sealed
 * with the token key besides (token-key.ts).
 */
export interface AuthorizationStore {
  create(handle: string, request: PendingAuthorization, ttlSeconds: number): Promise<void>
  find(handle: string): Promise<PendingAuthorization | undefined>
  update(handle: string, patch: Partial<Pick<PendingAuthorization, 'providerVerifier' | 'user' | 'session'>>): Promise<void>
  /** Removes and returns it, so the step that completes a request runs once. */
  take(handle: string): Promise<PendingAuthorization | undefined>
}

export interface AuthorizationCode {
  clientId: string
  redirectUri: string
  codeChallenge: string
  scope: string
  resource: string
  userId: string
  session: UpstreamSession
}

export type TokenResponse = Record<string, unknown> & { access_token: string; refresh_token?: string }

export type Redemption =
  | { outcome: 'issued'; response: TokenResponse; code: AuthorizationCode }
  | { outcome: 'replayed'; response: TokenResponse }
  | { outcome: 'reused'; code: AuthorizationCode; response: TokenResponse | undefined }

export interface CodeStore {
  create(code: string, issued: AuthorizationCode, ttlSeconds: number): Promise<void>
  /**
   * Redeems a code atomically. `check` throws an OAuthError to refuse (the code stays
   * unused); on success `respond` builds the answer, kept for `replaySeconds` so the same
   * code with the same verifier gets it again, and the refresh token it carries is bound to
   * the client in the same transaction, and the client counts as proven from then on. A
   * missing or expired code resolves to undefined.
   */
  redeem(
    code: string,
    verifierHash: string,
    replaySeconds: number,
    check: (code: AuthorizationCode) => void,
    respond: (code: AuthorizationCode) => TokenResponse,
  ): Promise<Redemption | undefined>
}

export interface RefreshGrant {
  clientId: string
  userId: string
  scope: string
  resource: string
  /** The Supabase session behind it, when its access token named one. */
  sessionId: string | undefined
  /** Shared by every refresh token of one grant (the code's and each rotation's); none on rows older than it. */
  grantId: string | undefined
}

export type RefreshClaim =
  | { kind: 'claimed'; grant: RefreshGrant; session: UpstreamSession | undefined }
  | { kind: 'replay'; response: TokenResponse }
  /** Another request (maybe on another instance) is rotating it right now. */
  | { kind: 'busy' }
  /** Rotated longer ago than the replay window: a copy of it is in someone else's hands. */
  | { kind: 'reused'; grant: RefreshGrant; session: UpstreamSession | undefined }
  | { kind: 'invalid'; reason: string }

/**
 * Each row keeps, sealed, the Supabase session the token was issued with (`session` below):
 * with OAUTH_ACCESS_TOKENS=bound the client's refresh token is ours, and this is the only
 * place the Supabase refresh token behind it is kept. Rows stored before that have none;
 * their token is Supabase's own.
 */
export interface RefreshTokenStore {
  find(token: string): Promise<(RefreshGrant & { active: boolean; session: UpstreamSession | undefined }) | undefined>
  claim(token: string, clientId: string, replaySeconds: number): Promise<RefreshClaim>
  /**
   * Records the rotation: the old token answers replays with `response` for a while, and
   * `response.refresh_token` carries the grant on, with `session` sealed under it.
   */
  complete(token: string, response: TokenResponse & { refresh_token: string }, grant: RefreshGrant, session: UpstreamSession): Promise<void>
  /** Gives a claim back after a transient failure, so a retry can rotate. */
  release(token: string): Promise<void>
  /** Ends the token and every other refresh token of its grant. */
  revoke(token: string): Promise<void>
  /** Deletes rows stored before refresh tokens were keyed (migration 0055); returns how many. */
  dropUnkeyed(): Promise<number>
}

export interface ConsentStore {
  /** True when the user already approved this client for at least `scope`. */
  covers(userId: string, clientId: string, scope: string): Promise<boolean>
  grant(userId: string, clientId: string, scope: string): Promise<void>
}

/** A cached document, or why it was refused (a failed fetch is remembered too, briefly). */
export type CachedDocument = { metadata: ClientMetadata } | { failure: string }

export interface MetadataDocumentCache {
  get(url: string): Promise<CachedDocument | undefined>
  put(url: string, document: CachedDocument, ttlSeconds: number): Promise<void>
}

export interface OAuthStore {
  clients: ClientStore
  authorizations: AuthorizationStore
  codes: CodeStore
  refreshTokens: RefreshTokenStore
  consents: ConsentStore
  metadataDocuments: MetadataDocumentCache
  /** A server-wide secret, created on first use and the same for every instance. */
  secret(name: string): Promise<Buffer>
  /** Counts a hit in a fixed window and returns the count so far in it. */
  hit(bucket: string, windowSeconds: number): Promise<number>
  /** Takes one `hit` back (an attempt counted before it was checked turned out genuine). */
  undoHit(bucket: string): Promise<void>
  /**
   * Deletes expired rows and returns how many. The Supabase session of a request or code
   * that expired unused goes with its row: sealed under a secret nobody presents any more,
   * it is beyond anyone's use, and Supabase's own session limits end it.
   */
  sweep(): Promise<number>
}
