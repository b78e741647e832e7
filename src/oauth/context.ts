import type { UserContext } from '../auth/user-context.ts'
import type { Config } from '../config.ts'
import type { AccessTokenIssuer } from './access-tokens.ts'
import type { BrowserBinding } from './browser-binding.ts'
import type { KeyRing } from './signing-keys.ts'
import type { ClientRecord, OAuthStore } from './store/types.ts'
import type { Upstream } from './upstream.ts'
import type { OAuthUrls } from './urls.ts'

/** What every handler of the authorization server works with. */
export interface OAuthContext {
  config: Config
  urls: OAuthUrls
  store: OAuthStore
  upstream: Upstream
  binding: BrowserBinding
  /** What the token endpoint hands out as access tokens (OAUTH_ACCESS_TOKENS). */
  accessTokens: AccessTokenIssuer
  /** The keys our access tokens are signed with; absent when we hand out Supabase's. */
  keys: KeyRing | undefined
  /**
   * A registered client or a Client ID Metadata Document, by client_id; `caller` is the
   * address of the request, which document fetches are limited by.
   */
  findClient(clientId: string, caller: string): Promise<ClientRecord | undefined>
  /** Verifies an access token this server hands out (the mode's `authenticate`); throws for anything else. */
  verifyAccessToken(token: string): Promise<UserContext>
  /**
   * After this server ended a Supabase session: the mode's token checks refuse its tokens
   * from now on (they may cache a token as valid, or check it locally and never ask Supabase).
   */
  forgetToken(accessToken: string, expiresAt: number): void
  /** The same, by session id, when no access token of the session is at hand. */
  forgetSession(sessionId: string | undefined): void
}

/** Lifetimes, in seconds, in one place. */
export const TTL = {
  /** From /authorize to the redirect back to the client. */
  pendingAuthorization: 600,
  authorizationCode: 60,
  /** The same code or refresh token presented again within this gets the same answer. */
  replayWindow: 10,
} as const

export const firstString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)
