import { InvalidScopeError } from './errors.ts'

/**
 * The scopes of the MCP resource. Supabase access tokens carry no scope of their own, so
 * these describe the identity data the client sees, and granting all of them is the default.
 */
export const SUPPORTED_SCOPES = ['openid', 'email', 'profile'] as const

/**
 * Scopes accepted at the authorization server besides those: `offline_access` asks for a
 * refresh token, which is always issued, so it is granted whenever asked. The protected
 * resource metadata does not list it.
 */
export const AUTHORIZATION_SCOPES = [...SUPPORTED_SCOPES, 'offline_access'] as const

/** Checks a requested `scope` and returns the granted one, space separated (RFC 6749 §3.3). */
export function grantScope(requested: string | undefined, allowed: readonly string[] = SUPPORTED_SCOPES): string {
  if (requested === undefined || requested.trim() === '') return allowed.filter((scope) => scope !== 'offline_access').join(' ')
  const asked = [...new Set(requested.split(' ').filter(Boolean))]
  const unknown = asked.filter((scope) => scope !== 'offline_access' && !allowed.includes(scope))
  if (unknown.length) throw new InvalidScopeError(`unsupported scope: ${unknown.slice(0, 3).join(' ')}`)
  return asked.join(' ')
}

/** True when every scope of `narrower` is in `wider`. */
export function scopeWithin(narrower: string, wider: string): boolean {
  const granted = new Set(wider.split(' '))
  return narrower.split(' ').filter(Boolean).every((scope) => granted.has(scope))
}
