import { decodeJwt, decodeProtectedHeader, errors, type JWSHeaderParameters, type JWTPayload } from 'jose'
import { InvalidTokenError } from '../errors.ts'

/** Clock skew tolerated on `exp` and `nbf`, between this server and whoever signed the token. */
export const CLOCK_LEEWAY_SECONDS = 30

/** The signing algorithms a Supabase project can use; `none` and anything else is refused outright. */
export const ACCEPTED_ALGORITHMS = new Set(['HS256', 'ES256', 'RS256', 'EdDSA'])

/** The reasons a token is refused, worded once for both strategies (they reach clients). */
export const REFUSAL = {
  notJwt: 'the access token is not a well-formed JWT',
  algorithm: (alg: unknown) => `the signing algorithm ${JSON.stringify(alg ?? null)} is not accepted`,
  unknownKey: 'the access token is signed by a key this server does not know',
  signature: 'the access token signature is invalid',
  expired: 'the access token has expired',
  notYetValid: 'the access token is not valid yet',
  issuer: 'the access token was issued by another issuer',
  audience: 'the access token is meant for another audience',
  missingClaim: (claim: string) => `the access token has no "${claim}" claim`,
  ended: 'the session of this access token has ended',
  userGone: 'the user of this access token no longer exists',
  userBanned: 'the user of this access token is banned',
  refusedUpstream: 'Supabase does not accept this access token',
} as const

export interface ExpectedClaims {
  issuer: string
  audience: string
}

/** Header and claims of a token, unverified: good only for refusing early and for reading. */
export function decodeToken(token: string): { header: JWSHeaderParameters; claims: JWTPayload } {
  try {
    return { header: decodeProtectedHeader(token), claims: decodeJwt(token) }
  } catch {
    throw new InvalidTokenError(REFUSAL.notJwt)
  }
}

export function checkAlgorithm(header: JWSHeaderParameters): string {
  if (typeof header.alg !== 'string' || !ACCEPTED_ALGORITHMS.has(header.alg)) throw new InvalidTokenError(REFUSAL.algorithm(header.alg))
  return header.alg
}

/**
 * The claim rules, in one place for both strategies: local verification runs them after the
 * signature check; the remote one before asking Supabase, which checks neither `iss` nor `aud`.
 */
export function checkClaims(claims: JWTPayload, expected: ExpectedClaims, nowSeconds = Date.now() / 1000): void {
  for (const claim of ['sub', 'exp', 'role']) {
    if (claims[claim] === undefined || claims[claim] === '') throw new InvalidTokenError(REFUSAL.missingClaim(claim))
  }
  if (typeof claims.sub !== 'string' || typeof claims.role !== 'string') throw new InvalidTokenError(REFUSAL.notJwt)
  if (typeof claims.exp !== 'number' || claims.exp + CLOCK_LEEWAY_SECONDS <= nowSeconds) throw new InvalidTokenError(REFUSAL.expired)
  if (typeof claims.nbf === 'number' && claims.nbf - CLOCK_LEEWAY_SECONDS > nowSeconds) throw new InvalidTokenError(REFUSAL.notYetValid)
  if (claims.iss !== expected.issuer) throw new InvalidTokenError(REFUSAL.issuer)
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
  if (!audiences.includes(expected.audience)) throw new InvalidTokenError(REFUSAL.audience)
}

/** Words a jose verification failure the way `checkClaims` words the same problem. */
export function joseRefusal(error: unknown): InvalidTokenError {
  if (error instanceof InvalidTokenError) return error
  if (error instanceof errors.JWTExpired) return new InvalidTokenError(REFUSAL.expired)
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return new InvalidTokenError(REFUSAL.issuer)
    if (error.claim === 'aud') return new InvalidTokenError(REFUSAL.audience)
    if (error.claim === 'nbf') return new InvalidTokenError(REFUSAL.notYetValid)
    if (error.reason === 'missing') return new InvalidTokenError(REFUSAL.missingClaim(error.claim))
    return new InvalidTokenError(REFUSAL.notJwt)
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new InvalidTokenError(REFUSAL.signature)
  if (error instanceof errors.JOSEAlgNotAllowed) return new InvalidTokenError(REFUSAL.unknownKey)
  return new InvalidTokenError(REFUSAL.notJwt)
}
