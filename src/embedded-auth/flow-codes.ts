import { createHash } from 'node:crypto'

/**
 * What `flow_states.auth_code` keeps of a PKCE flow's code: its SHA-256, cut to the 128 bits
 * the uuid column holds. The code itself is only ever in the redirect to the app, so a copy
 * of the table cannot be exchanged (it would also need the verifier, but defence in depth).
 */
export function authCodeDigest(code: string): string {
  const hex = createHash('sha256').update(code).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}
