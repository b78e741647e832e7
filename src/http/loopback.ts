import { isIP } from 'node:net'

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]'])

/** A host name or address that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '')
  return LOOPBACK_NAMES.has(host) || (isIP(bare) === 4 && bare.startsWith('127.')) || bare === '::1'
}

/** Headers a proxy adds on the way; a browser talking to the server directly sends none. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip']

/**
 * True when a request comes from this machine: both the connection's peer and the client
 * address TRUST_PROXY derives from it are loopback, so that behind a trusted proxy on this
 * machine a remote client does not pass for a local one; and it carries no forwarding
 * header, so that a proxy on this machine the server was not told about (TRUST_PROXY unset,
 * every request then from loopback) does not pass its clients for local ones either.
 */
export function fromLoopback(request: { ip: string; socket: { remoteAddress?: string | undefined }; headers: Record<string, unknown> }): boolean {
  const unmapped = (address: string) => address.replace(/^::ffff:/i, '')
  if (FORWARDING_HEADERS.some((name) => request.headers[name] !== undefined)) return false
  return isLoopback(unmapped(request.ip)) && isLoopback(unmapped(request.socket.remoteAddress ?? ''))
}
