import { InvalidScopeError } from './errors.ts'

/** What a token may do with the atoms data: read (list, read, search) and write (create, change, delete, link). */
export const RESOURCE_SCOPES = ['atoms:read', 'atoms:write'] as const

/** Identity scopes clients ask for out of habit; they grant nothing beyond the user's id and email. */
export const IDENTITY_SCOPES = ['openid', 'email', 'profile'] as const

/** Every scope a client may register and ask for, besides `offline_access`. */
export const SUPPORTED_SCOPES = [...RESOURCE_SCOPES, ...IDENTITY_SCOPES] as const

/**
 * Scopes accepted at the authorization server besides those: `offline_access` asks for a
 * refresh token, which every client that registered the `refresh_token` grant gets anyway
 * (and no other, SEP-2207), so it is granted whenever asked. The protected resource
 * metadata and the challenges never name it.
 */
export const AUTHORIZATION_SCOPES = [...SUPPORTED_SCOPES, 'offline_access'] as const

/** The consent page's words for each scope. */
export const SCOPE_DESCRIPTIONS: Record<string, string> = {
  'atoms:read': 'see your organizations, projects, documents, requirements, tests, their links and the invitations sent to you',
  'atoms:write': 'create, change and delete them, link them, manage members, answer invitations and set your active project',
  openid: 'know your user id',
  email: 'know your email address',
  profile: 'know your user id',
  offline_access: 'stay connected until you revoke it',
}

const scopesOf = (scope: string) => scope.split(' ').filter(Boolean)
const namesResource = (scopes: readonly string[]) => scopes.some((scope) => (RESOURCE_SCOPES as readonly string[]).includes(scope))

/**
 * A scope that names neither resource scope, as every grant and registration made before
 * they existed, stands for both: such grants keep working as they always did.
 */
export function withResourceScopes(scope: string): string {
  const scopes = scopesOf(scope)
  return namesResource(scopes) ? scopes.join(' ') : [...RESOURCE_SCOPES, ...scopes].join(' ')
}

/**
 * Checks a requested `scope` against the ones allowed and returns the granted one, space
 * separated (RFC 6749 §3.3). None asked: everything allowed but `offline_access`. A request
 * that names no resource scope gets those the client is allowed (today's behaviour).
 */
export function grantScope(requested: string | undefined, allowed: readonly string[] = SUPPORTED_SCOPES): string {
  if (requested === undefined || requested.trim() === '') return allowed.filter((scope) => scope !== 'offline_access').join(' ')
  const asked = [...new Set(scopesOf(requested))]
  const unknown = asked.filter((scope) => scope !== 'offline_access' && !allowed.includes(scope))
  if (unknown.length) throw new InvalidScopeError(`unsupported scope: ${unknown.slice(0, 3).join(' ')}`)
  if (namesResource(asked)) return asked.join(' ')
  return [...RESOURCE_SCOPES.filter((scope) => allowed.includes(scope)), ...asked].join(' ')
}

/** True when every scope of `narrower` is in `wider`. */
export function scopeWithin(narrower: string, wider: string): boolean {
  const granted = new Set(wider.split(' '))
  return narrower.split(' ').filter(Boolean).every((scope) => granted.has(scope))
}
