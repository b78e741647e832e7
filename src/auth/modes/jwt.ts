import type { AuthMode } from '../mode.ts'
import { localJwtVerifier, type VerifierDeps } from '../strategies/verifiers.ts'
import { verifyingMode } from './verifying-mode.ts'

/** `AUTH_MODE=jwt`: tokens verified locally against the project keys; a logout is seen only at `exp`. */
export function jwtMode(deps: VerifierDeps): AuthMode {
  return verifyingMode('jwt', localJwtVerifier(deps))
}
