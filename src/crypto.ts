import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

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
