import type { AuthMode } from '../mode.ts'
import { simpleAuthRoutes } from '../routes/simple.ts'
import { supabaseTokenVerifier, type VerifierDeps } from '../strategies/verifiers.ts'
import { verifyingMode } from './verifying-mode.ts'

/** `AUTH_MODE=simple`: clients sign in at `/auth/login` and send the Supabase token they get. */
export function simpleMode(deps: VerifierDeps): AuthMode {
  return verifyingMode('simple', supabaseTokenVerifier(deps), simpleAuthRoutes(deps))
}
