/**
 * Why a request to a protected route was refused. Each maps to one HTTP status and one
 * RFC 6750 error code, in one place (`challenge.ts` turns them into responses).
 */
export abstract class AuthError extends Error {
  abstract readonly status: number
  abstract readonly code: string
}

/** No token, or a token that is malformed, expired, revoked or not ours: 401. */
export class InvalidTokenError extends AuthError {
  readonly status = 401
  readonly code = 'invalid_token'
  /** False when no token was sent at all (RFC 6750 §3.1: then no error code is given). */
  readonly tokenPresented: boolean
  constructor(message: string, tokenPresented = true) {
    super(message)
    this.name = 'InvalidTokenError'
    this.tokenPresented = tokenPresented
  }
}

/** A valid token without a scope the route needs: 403. */
export class InsufficientScopeError extends AuthError {
  readonly status = 403
  readonly code = 'insufficient_scope'
  readonly requiredScopes: string[]
  constructor(requiredScopes: string[]) {
    super(`this request needs the scope${requiredScopes.length > 1 ? 's' : ''} ${requiredScopes.join(' ')}`)
    this.name = 'InsufficientScopeError'
    this.requiredScopes = requiredScopes
  }
}

/** Supabase (or the key source) could not be reached in time: 503 with Retry-After, never 401. */
export class UpstreamUnavailableError extends AuthError {
  readonly status = 503
  readonly code = 'temporarily_unavailable'
  readonly retryAfterSeconds: number
  constructor(message: string, retryAfterSeconds = 5, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'UpstreamUnavailableError'
    this.retryAfterSeconds = retryAfterSeconds
  }
}
