import type { Db } from '../../db/db.ts'
import { createDelegatingMode } from '../../oauth/delegate.ts'
import { createOAuthMode, oauthTokenChecks } from '../../oauth/index.ts'
import type { AuthMode } from '../mode.ts'
import { localJwtVerifier, supabaseTokenVerifier, type VerifierDeps } from '../strategies/verifiers.ts'
import { bearerMode } from './bearer.ts'
import { jwtMode } from './jwt.ts'
import { simpleMode } from './simple.ts'
import { verifyingMode } from './verifying-mode.ts'

export interface AuthModeDeps extends VerifierDeps {
  /** Where the oauth mode keeps its clients, codes and consents; without it only tokens are checked. */
  db?: Db
  /** Headers this server's own calls to its embedded auth carry. */
  embeddedAuthHeaders?: Record<string, string>
}

/** The one auth mode this server runs, chosen by `AUTH_MODE`. */
export function createAuthMode(deps: AuthModeDeps): AuthMode {
  switch (deps.config.authMode) {
    case 'jwt':
      return jwtMode(deps)
    case 'bearer':
      return bearerMode(deps)
    case 'simple':
      return simpleMode(deps)
    case 'oauth': {
      // Supabase's own OAuth server signs users in; its JWTs are checked locally.
      if (deps.config.oauth.upstream === 'delegate') return createDelegatingMode(deps.config, localJwtVerifier(deps))
      // Supabase tokens are checked as in simple mode; the oauth mode adds its authorization server.
      const checks = verifyingMode('oauth', supabaseTokenVerifier(deps))
      if (!deps.db) return oauthTokenChecks(deps, checks)
      return createOAuthMode({ config: deps.config, db: deps.db, upstreamHeaders: deps.embeddedAuthHeaders, tokens: checks })
    }
  }
}
