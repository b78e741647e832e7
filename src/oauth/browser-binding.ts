import type { FastifyReply, FastifyRequest } from 'fastify'
import { hmac, randomToken, safeEqual, sha256 } from '../crypto.ts'

/**
 * Ties an authorization request to the browser that started it: an HttpOnly, signed cookie
 * holds a random nonce whose hash is stored with the request, and every later step (form
 * posts, the return from a social provider) must come with that cookie. A link to a
 * half-finished flow sent to someone else is worthless in their browser. The form's CSRF
 * token is derived from the same nonce and the request handle.
 */
export interface BrowserBinding {
  /** The verified nonce of this browser, or undefined without a valid cookie. */
  read(request: FastifyRequest): string | undefined
  /** The nonce of this browser, setting the cookie when it has none yet. */
  ensure(request: FastifyRequest, reply: FastifyReply): string
  csrfToken(handle: string, nonce: string): string
  csrfValid(handle: string, nonce: string, presented: unknown): boolean
}

export const hashNonce = (nonce: string) => sha256(`browser:${nonce}`)

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const index = part.indexOf('=')
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim()
  }
  return undefined
}

export function browserBinding(key: Buffer, secure: boolean): BrowserBinding {
  // `__Host-` pins the cookie to this host over https (no Domain, Path=/); plain http cannot use it.
  const name = secure ? '__Host-atoms_oauth_browser' : 'atoms_oauth_browser'
  const sign = (nonce: string) => hmac(key, `cookie:${nonce}`)

  function read(request: FastifyRequest): string | undefined {
    const value = readCookie(request.headers.cookie, name)
    const [nonce, signature] = (value ?? '').split('.')
    if (!nonce || !signature || !/^[A-Za-z0-9_-]{43}$/.test(nonce)) return undefined
    return safeEqual(signature, sign(nonce)) ? nonce : undefined
  }

  return {
    read,
    ensure(request, reply) {
      const existing = read(request)
      if (existing) return existing
      const nonce = randomToken()
      // Lax, not Strict: the browser comes back from a social provider by a cross-site redirect.
      const attributes = ['Path=/', 'HttpOnly', 'SameSite=Lax', 'Max-Age=3600', ...(secure ? ['Secure'] : [])]
      reply.header('set-cookie', `${name}=${nonce}.${sign(nonce)}; ${attributes.join('; ')}`)
      return nonce
    },
    csrfToken(handle, nonce) {
      return hmac(key, `csrf:${handle}:${nonce}`)
    },
    csrfValid(handle, nonce, presented) {
      return typeof presented === 'string' && safeEqual(presented, hmac(key, `csrf:${handle}:${nonce}`))
    },
  }
}
