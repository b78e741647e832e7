import { hash } from 'node:crypto'

/**
 * The key tokens are cached and remembered under: tokens themselves are never kept as keys.
 * SHA-256 through the one-shot `crypto.hash`, which costs a fraction of a `createHash` object
 * per call (it runs for every authenticated request).
 */
export function tokenHash(token: string): string {
  return hash('sha256', token, 'base64url')
}
