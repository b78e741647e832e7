import { createHash } from 'node:crypto'

/** The key tokens are cached and remembered under: tokens themselves are never kept as keys. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}
