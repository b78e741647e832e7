import type { FastifyPluginAsync } from 'fastify'
import type { AuthModeName } from '../../config.ts'
import { EndedSessions } from '../ended-sessions.ts'
import { InvalidTokenError } from '../errors.ts'
import type { AuthMode } from '../mode.ts'
import { REFUSAL } from '../strategies/token-claims.ts'
import type { TokenVerifier } from '../strategies/token-verifier.ts'
import type { UserContext, VerifiedToken } from '../user-context.ts'

/** An auth mode is a token check, the mode's name on the result, and maybe public routes. */
export function verifyingMode(name: AuthModeName, verifier: TokenVerifier, routes?: FastifyPluginAsync): AuthMode {
  // Verifiers hand out their cached result for a known token; its UserContext is made once
  // and lives as long as that result does.
  const contexts = new WeakMap<VerifiedToken, UserContext>()
  const ended = new EndedSessions()
  return {
    name,
    async authenticate(token) {
      const verified = await verifier.verify(token)
      if (ended.has(verified.sessionId)) throw new InvalidTokenError(REFUSAL.ended)
      let user = contexts.get(verified)
      if (!user) {
        user = { ...verified, mode: name }
        contexts.set(verified, user)
      }
      return user
    },
    forget(token, expiresAt) {
      verifier.forget(token, expiresAt)
      // Ending a token's session ends every token of it (Supabase's logout is per session).
      ended.endOf(token, expiresAt)
    },
    forgetSession(sessionId, until) {
      ended.end(sessionId, until)
    },
    ...(routes ? { routes } : {}),
  }
}
