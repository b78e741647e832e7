import { withoutTrailingSlashes } from '../http/trailing-slashes.ts'

/**
 * Whether a `resource` parameter (RFC 8707) names this server's MCP endpoint: scheme and
 * host compare case-insensitively and a trailing slash is ignored; a fragment never matches.
 */
export function isOurResource(given: string, expected: string): boolean {
  if (given.includes('#')) return false
  try {
    const a = new URL(given)
    const b = new URL(expected)
    const path = (url: URL) => withoutTrailingSlashes(url.pathname)
    return a.origin === b.origin && path(a) === path(b) && a.search === b.search && !a.username && !a.password
  } catch {
    return false
  }
}
