import type { AuthMode } from '../mode.ts'
import { supabaseTokenVerifier, type VerifierDeps } from '../strategies/verifiers.ts'
import { bearerMode } from './bearer.ts'
import { jwtMode } from './jwt.ts'
import { simpleMode } from './simple.ts'
import { verifyingMode } from './verifying-mode.ts'

/** The one auth mode this server runs, chosen by `AUTH_MODE`. */
export function createAuthMode(deps: VerifierDeps): AuthMode {
  switch (deps.config.authMode) {
    case 'jwt':
      return jwtMode(deps)
    case 'bearer':
      return bearerMode(deps)
    case 'simple':
      return simpleMode(deps)
    case 'oauth':
      // Token checks as in simple mode; the oauth mode adds its authorization-server routes.
      return verifyingMode('oauth', supabaseTokenVerifier(deps))
  }
}
