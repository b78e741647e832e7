import type { FastifyPluginAsync } from 'fastify'
import type { AuthModeName } from '../../config.ts'
import type { AuthMode } from '../mode.ts'
import type { TokenVerifier } from '../strategies/token-verifier.ts'

/** An auth mode is a token check, the mode's name on the result, and maybe public routes. */
export function verifyingMode(name: AuthModeName, verifier: TokenVerifier, routes?: FastifyPluginAsync): AuthMode {
  return {
    name,
    async authenticate(token) {
      return { ...(await verifier.verify(token)), mode: name }
    },
    forget(token, expiresAt) {
      verifier.forget(token, expiresAt)
    },
    ...(routes ? { routes } : {}),
  }
}
