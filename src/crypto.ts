import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'

/** 256 random bits, URL-safe: codes, handles, secrets and refresh-token keys. */
export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url')

/** How every secret is stored: high-entropy tokens need a fast hash, not a password hash. */
export const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url')

export const hmac = (key: Buffer, value: string) => createHmac('sha256', key).update(value).digest('base64url')

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
export const PKCE_PATTERN = /^[A-Za-z0-9._~-]{43,128}$/

/** The PKCE S256 transform is the same digest, named for what it does there. */
export const s256 = sha256

/** RFC 7636 §4.6, both methods (the embedded auth, as GoTrue, still accepts `plain`), in constant time. */
export function pkceMatches(verifier: string, challenge: string, method: string): boolean {
  return safeEqual(method.toLowerCase() === 's256' ? s256(verifier) : verifier, challenge)
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomToken(48)
  return { verifier, challenge: s256(verifier) }
}

const IV_BYTES = 12
const TAG_BYTES = 16

/** An AES-256 key derived from a high-entropy secret; `purpose` gives each use a key of its own. */
const keyFrom = (secret: string, purpose: string) => Buffer.from(hkdfSync('sha256', secret, 'atoms-mcp sealed', purpose, 32))

/**
 * Seals `plaintext` (AES-256-GCM) under a key derived from `secret`, a random token someone
 * else holds (a code, a handle, a refresh token) and of which only a hash is stored: what
 * is kept next to that hash cannot be read without the secret.
 */
export function sealWith(secret: string, purpose: string, plaintext: string): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', keyFrom(secret, purpose), iv)
  const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url')
}

/** The plaintext `sealWith` sealed with the same secret and purpose; undefined for anything else. */
export function openWith(secret: string, purpose: string, sealed: string): string | undefined {
  const bytes = Buffer.from(sealed, 'base64url')
  if (bytes.length < IV_BYTES + TAG_BYTES) return undefined
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFrom(secret, purpose), bytes.subarray(0, IV_BYTES))
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES))
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8')
  } catch {
    return undefined
  }
}
