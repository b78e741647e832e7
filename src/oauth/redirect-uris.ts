import { isIP } from 'node:net'
import { isPlainHost } from '../http/hostname.ts'

export const MAX_REDIRECT_URI_LENGTH = 2000

/** Schemes that run code or read local data where a browser lands; never a redirect target. */
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:', 'filesystem:', 'view-source:', 'ws:', 'wss:', 'ftp:'])
const SCHEME = /^[a-z][a-z0-9+.-]*:/

export function isLoopbackHost(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true
  if (isIP(bare) === 4) return bare.startsWith('127.')
  return bare === '::1'
}

/** The authority of a URL as written (before URL parsing resolves anything). */
function rawAuthority(uri: string): string | undefined {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(uri)
  return match?.[1]
}

/**
 * Why a redirect URI cannot be registered, or undefined when it can: https anywhere, http
 * only on a loopback address (RFC 8252 §7.3), or a private-use scheme for native apps
 * (RFC 8252 §7.1); never a fragment, userinfo or a dot segment.
 */
export function redirectUriProblem(uri: string): string | undefined {
  if (typeof uri !== 'string' || uri.length === 0) return 'a redirect URI must be a non-empty string'
  if (uri.length > MAX_REDIRECT_URI_LENGTH) return `a redirect URI may have at most ${MAX_REDIRECT_URI_LENGTH} characters`
  if (/[\s\u0000-\u001f\u007f\\]/.test(uri)) return 'a redirect URI may not contain whitespace, control characters or backslashes'
  if (!SCHEME.test(uri.toLowerCase())) return 'a redirect URI must be an absolute URI'
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return 'a redirect URI must be an absolute URI'
  }
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return `the ${url.protocol.slice(0, -1)} scheme is not allowed in a redirect URI`
  if (uri.includes('#')) return 'a redirect URI may not contain a fragment'
  // `http://localhost:@evil.com` is evil.com: any userinfo at all is refused.
  if (url.username || url.password || (rawAuthority(uri) ?? '').includes('@')) return 'a redirect URI may not contain userinfo'
  if (/(^|\/)\.\.?(\/|$)/.test(uri.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').split(/[?#]/)[0]!)) {
    return 'a redirect URI may not contain dot segments'
  }
  if ((url.protocol === 'https:' || url.protocol === 'http:') && !isPlainHost(url.hostname)) {
    return 'the host of a redirect URI must be a DNS name or an IP address'
  }
  if (url.protocol === 'https:') return undefined
  if (url.protocol === 'http:') {
    return isLoopbackHost(url.hostname) ? undefined : 'an http redirect URI must point to a loopback address (localhost, 127.0.0.1 or [::1]); use https otherwise'
  }
  return undefined
}

/**
 * Whether a redirect URI sent to /authorize is one the client registered: equal, or for
 * an http loopback URI equal except for the port, which native apps pick at run time.
 */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true
  let a: URL
  let b: URL
  try {
    a = new URL(registered)
    b = new URL(requested)
  } catch {
    return false
  }
  if (a.protocol !== 'http:' || b.protocol !== 'http:' || !isLoopbackHost(a.hostname)) return false
  if (redirectUriProblem(requested) !== undefined) return false
  return a.hostname === b.hostname && a.pathname === b.pathname && a.search === b.search
}

/** The registered URI a request names, or undefined when none matches. */
export function matchRedirectUri(registered: readonly string[], requested: string | undefined): string | undefined {
  if (requested === undefined) return registered.length === 1 ? registered[0] : undefined
  return registered.some((uri) => redirectUriMatches(uri, requested)) ? requested : undefined
}
