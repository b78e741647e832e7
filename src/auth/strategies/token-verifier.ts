import type { VerifiedToken } from '../user-context.ts'

/**
 * One way of checking an access token: locally against keys (local-jwt) or by asking
 * Supabase (remote-user). Throws an `AuthError` when the token is refused or cannot be checked.
 */
export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>
  /**
   * Called after this server ended the token's session: drop any cached acceptance, so
   * this instance refuses it from now on.
   */
  forget(token: string, expiresAt: number): void
}
