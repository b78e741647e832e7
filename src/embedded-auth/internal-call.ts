import type { FastifyRequest } from 'fastify'
import { safeEqual } from '../crypto.ts'
import type { SigningKeys } from './keys.ts'

/**
 * The header on this server's own calls to its embedded auth: the simple mode's `/auth/login`
 * and the oauth sign-in page check passwords through `/auth/v1/token`. Those endpoints have
 * already counted the attempt against the client's address and account, so the password
 * grant does not count it again, and does not count every user's sign-in against the one
 * address this server calls from.
 */
export const INTERNAL_CALL_HEADER = 'x-atoms-internal-call'

/** The headers this server adds to its own calls to the embedded auth. */
export function internalCallHeaders(keys: Pick<SigningKeys, 'internalCallSecret'>): Record<string, string> {
  return { [INTERNAL_CALL_HEADER]: keys.internalCallSecret }
}

export function isInternalCall(request: FastifyRequest, keys: Pick<SigningKeys, 'internalCallSecret'>): boolean {
  const given = request.headers[INTERNAL_CALL_HEADER]
  return typeof given === 'string' && safeEqual(given, keys.internalCallSecret)
}
