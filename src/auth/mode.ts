import type { FastifyPluginAsync } from 'fastify'
import type { AuthModeName } from '../config.ts'
import type { UserContext } from './user-context.ts'

/**
 * How a caller proves who they are. Four implementations (oauth, simple, bearer, jwt); the
 * server holds exactly one, picked by `AUTH_MODE`.
 */
export interface AuthMode {
  readonly name: AuthModeName
  /**
   * Verifies a bearer token and says whose it is. Throws an `AuthError` (see errors.ts):
   * `InvalidTokenError` for a bad token, `UpstreamUnavailableError` when Supabase cannot be asked.
   */
  authenticate(token: string): Promise<UserContext>
  /** The mode's own public routes (simple: `/auth/login`...; oauth: the authorization server). */
  routes?: FastifyPluginAsync
  /**
   * Called after this server ended the token's session (a logout through it): this instance
   * refuses the token from then on, even where Supabase is not asked per request.
   */
  forget?(token: string, expiresAt: number): void
  /**
   * Called after this server ended a Supabase session it holds no access token of (a reused
   * refresh token): this instance refuses every token of it until `until` (unix seconds).
   */
  forgetSession?(sessionId: string, until: number): void
  /** Extra auth-params for `WWW-Authenticate` challenges (oauth: `resource_metadata`). */
  challengeParams?(): Record<string, string>
  close?(): Promise<void>
}
