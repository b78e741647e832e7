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
  /** The access token the caller presented: the Supabase one, or in oauth mode by default our own. */
  accessToken: string
  /** Unix seconds. */
  expiresAt: number
  scopes: string[]
  mode: AuthModeName
}

/** What a token check proves; the mode adds its own name to make it a `UserContext`. */
export type VerifiedToken = Omit<UserContext, 'mode'>

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined)

/** Reads the Supabase access-token claims (already verified by the caller) into one shape. */
export function verifiedTokenFromClaims(claims: Record<string, unknown>, accessToken: string): VerifiedToken {
  return {
    userId: String(claims.sub),
    email: text(claims.email),
    role: String(claims.role),
    sessionId: text(claims.session_id),
    aal: text(claims.aal),
    claims,
    accessToken,
    expiresAt: Number(claims.exp),
    // Only tokens from an OAuth grant carry `scope`; a plain Supabase session has none.
    scopes: typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [],
  }
}
