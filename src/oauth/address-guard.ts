import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { BlockList, isIP, type LookupFunction } from 'node:net'

/** Addresses a server-side fetch must never reach: private, loopback, link-local, reserved. */
const BLOCKED = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(network, prefix, 'ipv4')
for (const [network, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
] as const) BLOCKED.addSubnet(network, prefix, 'ipv6')

export function isPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '')
  const family = isIP(bare)
  if (family === 0) return false
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)
  if (mapped) return !BLOCKED.check(mapped[1]!, 'ipv4')
  return !BLOCKED.check(bare, family === 4 ? 'ipv4' : 'ipv6')
}

export class BlockedAddressError extends Error {
  constructor(hostname: string) {
    super(`${hostname} resolves to an address that is not public`)
    this.name = 'BlockedAddressError'
  }
}

/**
 * A socket `lookup` that refuses hosts resolving to non-public addresses. It runs at
 * connect time, so the address checked is the address connected to (no DNS rebinding).
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, family: options.family as number | undefined }, (error, addresses: LookupAddress[]) => {
      if (error) return (callback as any)(error)
      const usable = allowPrivate ? addresses : addresses.filter((entry) => isPublicAddress(entry.address))
      if (usable.length === 0 || (!allowPrivate && usable.length !== addresses.length)) return (callback as any)(new BlockedAddressError(hostname))
      if ((options as { all?: boolean }).all) return (callback as any)(null, usable)
      return (callback as any)(null, usable[0]!.address, usable[0]!.family)
    })
  }
}
