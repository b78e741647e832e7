import { NoKeyForTokenError } from './local-jwt.ts'
import type { TokenVerifier } from './token-verifier.ts'

/**
 * `TOKEN_VALIDATION=auto`: verify locally whenever a key for the token is known, and ask
 * Supabase only for tokens signed with a key the project does not publish (an HS256 project
 * without `SUPABASE_JWT_SECRET`). A token refused locally is never retried remotely.
 */
export class AutoVerifier implements TokenVerifier {
  readonly #local: TokenVerifier
  readonly #remote: TokenVerifier

  constructor(local: TokenVerifier, remote: TokenVerifier) {
    this.#local = local
    this.#remote = remote
  }

  async verify(token: string) {
    try {
      return await this.#local.verify(token)
    } catch (error) {
      if (error instanceof NoKeyForTokenError) return this.#remote.verify(token)
      throw error
    }
  }

  forget(token: string, expiresAt: number): void {
    this.#local.forget(token, expiresAt)
    this.#remote.forget(token, expiresAt)
  }
}
