import { InvalidTokenError } from './errors.ts'

const BEARER = /^bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i

/**
 * The token of an `Authorization: Bearer <token>` header. No header, or another scheme,
 * means no token was presented; a Bearer header with no usable token is a malformed one.
 */
export function bearerTokenFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header
  if (!value || !/^bearer(\s|$)/i.test(value.trim())) throw new InvalidTokenError('this endpoint needs a bearer token', false)
  const match = BEARER.exec(value.trim())
  if (!match) throw new InvalidTokenError('the Authorization header does not hold a well-formed bearer token')
  return match[1]!
}
