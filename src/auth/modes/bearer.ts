import type { AuthMode } from '../mode.ts'
import { remoteUserVerifier, type VerifierDeps } from '../strategies/verifiers.ts'
import { verifyingMode } from './verifying-mode.ts'

/** `AUTH_MODE=bearer`: Supabase is asked about each token, a logout is seen within `TOKEN_CACHE_TTL`. */
export function bearerMode(deps: VerifierDeps): AuthMode {
  return verifyingMode('bearer', remoteUserVerifier(deps))
}
