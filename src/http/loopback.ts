import { isIP } from 'node:net'

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]'])

/** A host name or address that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '')
  return LOOPBACK_NAMES.has(host) || (isIP(bare) === 4 && bare.startsWith('127.')) || bare === '::1'
}
