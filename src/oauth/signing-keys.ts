import { createECDH, createHash, createPrivateKey, createPublicKey, hkdfSync, type KeyObject } from 'node:crypto'
import type { JWK } from 'jose'
import type { KeySource, VerificationKey } from '../auth/strategies/key-store.ts'

/**
 * How long one key signs. It is published from one period before (so caches of the JWKS
 * know it before it signs) until one period after (its tokens live at most a day), so a
 * rotation never refuses a token: nobody is logged out by it.
 */
export const KEY_ROTATION_SECONDS = 30 * 24 * 3600

export interface SigningKey {
  kid: string
  privateKey: KeyObject
  publicJwk: JWK
  verification: VerificationKey
}

/** The order of the P-256 group: a private key is an integer in [1, n - 1]. */
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551')

/** RFC 7638 thumbprint of a P-256 public key. */
const thumbprint = (x: string, y: string) => createHash('sha256').update(JSON.stringify({ crv: 'P-256', kty: 'EC', x, y })).digest('base64url')

/**
 * The ES256 key of one rotation period, derived from that period's server secret, so that
 * every instance sharing the database signs with the same key without storing a key of its
 * own (the secret is kept and shared like the server's other secrets).
 */
export function keyFromSecret(secret: Buffer, period: number): SigningKey {
  for (let counter = 0; ; counter++) {
    const d = Buffer.from(hkdfSync('sha256', secret, 'atoms-mcp access tokens', `ES256 ${counter}`, 32))
    const scalar = BigInt(`0x${d.toString('hex')}`)
    // Outside [1, n - 1] with a chance of 2^-32: derive again.
    if (scalar === 0n || scalar >= P256_ORDER) continue
    const ecdh = createECDH('prime256v1')
    ecdh.setPrivateKey(d)
    const point = ecdh.getPublicKey()
    const x = point.subarray(1, 33).toString('base64url')
    const y = point.subarray(33, 65).toString('base64url')
    const kid = `at${period}-${thumbprint(x, y).slice(0, 22)}`
    const publicJwk: JWK = { kty: 'EC', crv: 'P-256', x, y, kid, alg: 'ES256', use: 'sig' }
    const publicKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x, y }, format: 'jwk' })
    const privateKey = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', x, y, d: d.toString('base64url') }, format: 'jwk' })
    return { kid, privateKey, publicJwk, verification: { alg: 'ES256', key: publicKey } }
  }
}

export interface KeyRing extends KeySource {
  /** The key that signs now. */
  signingKey(): Promise<SigningKey>
  /** The published public keys (the `jwks_uri` document). */
  jwks(): Promise<{ keys: JWK[] }>
}

export interface KeyRingOptions {
  /** A server-wide secret by name, the same for every instance (`OAuthStore.secret`). */
  secret(name: string): Promise<Buffer>
  rotationSeconds?: number
  now?: () => number
}

const KID = /^at(\d{1,12})-[\w-]{22}$/

/** The access-token keys: one per rotation period, the previous and next published beside it. */
export function keyRing({ secret, rotationSeconds = KEY_ROTATION_SECONDS, now = Date.now }: KeyRingOptions): KeyRing {
  const loaded = new Map<number, Promise<SigningKey>>()
  const period = () => Math.floor(now() / 1000 / rotationSeconds)

  function keyOf(p: number): Promise<SigningKey> {
    let key = loaded.get(p)
    if (!key) {
      key = secret(`access-token-key-${p}`).then((value) => keyFromSecret(value, p))
      // A failed read (the database away) is tried again next time.
      key.catch(() => loaded.delete(p))
      loaded.set(p, key)
      for (const old of loaded.keys()) if (old < p - 2) loaded.delete(old)
    }
    return key
  }
  const published = () => {
    const current = period()
    return [current - 1, current, current + 1]
  }

  return {
    signingKey: () => keyOf(period()),
    async keyFor(header) {
      const match = typeof header.kid === 'string' && header.alg === 'ES256' ? KID.exec(header.kid) : null
      // Only a period published now is looked up: a token cannot make us derive any other.
      if (!match || !published().includes(Number(match[1]))) return undefined
      const key = await keyOf(Number(match[1]))
      return key.kid === header.kid ? key.verification : undefined
    },
    async jwks() {
      const keys = await Promise.all(published().map(keyOf))
      return { keys: keys.map((key) => key.publicJwk) }
    },
  }
}
