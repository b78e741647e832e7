import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { pageSecurityHeaders } from './pages.ts'

const PAGE_HEADER_NAMES = Object.keys(await pageSecurityHeaders('http://127.0.0.1'))

/** Markup that must never come back unescaped in an HTML page. */
export const MARKUP = '<script>alert(1)</script>'

export const contentTypes = fc.constantFrom(
  'application/json', 'application/json; charset=utf-8', 'application/x-www-form-urlencoded', 'text/plain',
  'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream', '', 'garbage/*;;;',
)

export const bodies = fc.oneof(
  fc.json().map((text) => Buffer.from(text)),
  fc.string().map((text) => Buffer.from(text)),
  fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
  fc.dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.string(), fc.constant(MARKUP), fc.integer(), fc.constant(null)))
    .map((object) => Buffer.from(JSON.stringify(object))),
  fc.dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.string(), fc.constant(MARKUP)))
    .map((object) => Buffer.from(new URLSearchParams(object).toString())),
  fc.integer({ min: 1, max: 20_000 }).map((depth) => Buffer.from('['.repeat(depth) + ']'.repeat(depth))),
  fc.constant(Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1])),
)

export const queries = fc.dictionary(
  fc.constantFrom('grant_type', 'provider', 'redirect_to', 'code_challenge', 'code_challenge_method', 'state', 'code', 'scope', 'error', 'x', 'client_id', 'redirect_uri', 'response_type', 'resource', 'sessionId'),
  fc.oneof(fc.string(), fc.constant(MARKUP), fc.constant('password'), fc.constant('github'), fc.webUrl()),
)

export const authorizations = fc.oneof(
  fc.constant(undefined),
  fc.string().map((s) => `Bearer ${s}`),
  fc.constant('Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'),
  fc.string(),
)

/** Fills a route's parameters (and its wildcard) with `param`. */
export function concreteUrl(url: string, param: string): string {
  return url.replace(/:[A-Za-z_]+/g, encodeURIComponent(param) || 'x').replace(/\*$/, encodeURIComponent(param))
}

/** What any answer to bad input must satisfy; throws with the reason otherwise. */
export function checkAnswer(what: string, response: { statusCode: number; headers: Record<string, unknown>; body: string }) {
  if (response.statusCode >= 500 && response.statusCode !== 503) throw new Error(`${what} answered ${response.statusCode}: ${response.body.slice(0, 300)}`)
  if (String(response.headers['content-type'] ?? '').startsWith('text/html')) {
    if (response.body.includes(MARKUP)) throw new Error(`${what} reflected markup unescaped`)
    for (const name of PAGE_HEADER_NAMES) {
      if (response.headers[name] === undefined) throw new Error(`${what}: an HTML page without ${name}`)
    }
  }
  for (const cookie of [response.headers['set-cookie'] ?? []].flat() as string[]) {
    if (!/;\s*HttpOnly/i.test(cookie) || !/;\s*SameSite=/i.test(cookie)) throw new Error(`${what} set a cookie without HttpOnly and SameSite: ${cookie}`)
  }
}

/** The routes of an app the suite walks (OPTIONS is CORS's, answered before any handler). */
export function walkedRoutes(app: FastifyInstance) {
  return app.routeTable.filter((route) => route.method !== 'OPTIONS')
}
