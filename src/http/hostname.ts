import { isIP } from 'node:net'

const MAX_HOSTNAME_LENGTH = 253
// Checked per label, so no pattern spans the name.
const LABEL = /^[a-z0-9-]{1,63}$/
const isLabel = (label: string) => LABEL.test(label) && !label.startsWith('-') && !label.endsWith('-')

/**
 * Whether the host of a parsed http(s) URL is a DNS name (IDNs arrive in their xn-- form)
 * or an IP literal. The URL parser lets `;`, `,`, quotes and more through in a host; such a
 * host names no server, and written into a header (a CSP source) it would split the header.
 */
export function isPlainHost(hostname: string): boolean {
  if (hostname.startsWith('[') && hostname.endsWith(']')) return isIP(hostname.slice(1, -1)) === 6
  if (isIP(hostname) === 4) return true
  const name = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname
  if (name.length === 0 || name.length > MAX_HOSTNAME_LENGTH) return false
  return name.toLowerCase().split('.').every(isLabel)
}
