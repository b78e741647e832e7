import type { FastifyPluginAsync } from 'fastify'
import type { AuthModeName } from '../../config.ts'
import type { AuthMode } from '../mode.ts'
import type { TokenVerifier } from '../strategies/token-verifier.ts'
import type { UserContext, VerifiedToken } from '../user-context.ts'

/** An auth mode is a token check, the mode's name on the result, and maybe public routes. */
export function verifyingMode(name: AuthModeName, verifier: TokenVerifier, routes?: FastifyPluginAsync): AuthMode {
  // Verifiers hand out their cached result for a known token; its UserContext is made once
  // and lives as long as that result does.
  const contexts = new WeakMap<VerifiedToken, UserContext>()
  return {
    name,
    async authenticate(token) {
      const verified = await verifier.verify(token)
      let user = contexts.get(verified)
      if (!user) {
        user = { ...verified, mode: name }
        contexts.set(verified, user)
      }
      return user
    },
    forget(token, expiresAt) {
      verifier.forget(token, expiresAt)
    },
    ...(routes ? { routes } : {}),
  }
}
