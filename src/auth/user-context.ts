import type { AuthModeName } from '../config.ts'

/**
 * Who is calling, as every tool and protected route sees it. Each auth mode ends in one of
 * these; nothing downstream knows or asks which mode produced it.
 */
export interface UserContext {
  userId: string
  email: string | undefined
  /** The database role the token grants, `authenticated` for signed-in users. */
  role: string
  sessionId: string | undefined
  /** Authenticator assurance level: `aal1`, or `aal2` after MFA. */
  aal: string | undefined
  /** The verified JWT claims, as Postgres policies see them through `request.jwt.claims`. */
  claims: Record<string, unknown>
  /** The Supabase access token itself, for calls made on the user's behalf. */
  accessToken: string
  /** Unix seconds. */
  expiresAt: number
  scopes: string[]
  mode: AuthModeName
}
