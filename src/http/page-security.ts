import helmet, { type FastifyHelmetOptions } from '@fastify/helmet'
import type { FastifyInstance, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import { isPlainHost } from './hostname.ts'

/**
 * The policy of every HTML page: no scripts at all, the page's own inline `<style>`, forms
 * posting back to this server only, no framing (clickjacking a consent button) and no
 * `<base>` to redirect relative form actions.
 */
const PAGE_CSP_DIRECTIVES = {
  defaultSrc: ["'none'"],
  styleSrc: ["'unsafe-inline'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
}

const csp = (formAction: string[]) => ({ useDefaults: false, directives: { ...PAGE_CSP_DIRECTIVES, formAction } })

/**
 * Helmet's defaults with the pages' own CSP and `X-Frame-Options: DENY`. HSTS only when the
 * public URL is https: the TLS terminator in front passes it on to browsers, while over
 * plain http browsers ignore it (RFC 6797 §8.1), so there it would only cost bytes.
 */
export function pageHelmetOptions(publicUrl: string): FastifyHelmetOptions {
  return {
    contentSecurityPolicy: csp(["'self'"]),
    frameguard: { action: 'deny' },
    ...(publicUrl.startsWith('https://') ? {} : { strictTransportSecurity: false }),
  }
}

/**
 * The security headers of the HTML pages, for the encapsulation context it is registered
 * in: register the page routes next to it, and only them, so JSON endpoints (and the hot
 * /mcp path above all) run none of helmet's hooks. Sign-in pages and the redirects that
 * carry codes are never cached.
 */
export const pageSecurity = fp(
  async (app: FastifyInstance, { publicUrl }: { publicUrl: string }) => {
    await app.register(helmet, pageHelmetOptions(publicUrl))
    app.addHook('onRequest', (_request, reply, done) => {
      reply.header('cache-control', 'no-store')
      done()
    })
  },
  { name: 'page-security', fastify: '5.x' },
)

const SCHEME_SOURCE = /^[a-z][a-z0-9+.-]*:$/

/**
 * The form-action source of a redirect target: its origin, or for an app's private-use
 * scheme, the scheme. Undefined for anything that is not a well-formed CSP source (a host
 * with `;` in it, say), so no stored URI can break or widen the policy, or make helmet throw.
 */
export function redirectSource(target: string | undefined): string | undefined {
  if (!target) return undefined
  let url: URL
  try {
    url = new URL(target)
  } catch {
    return undefined
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') return isPlainHost(url.hostname) ? url.origin : undefined
  return SCHEME_SOURCE.test(url.protocol) ? url.protocol : undefined
}

/**
 * Widens this reply's `form-action` by `sources`: browsers apply form-action to every
 * redirect that follows a form post, and a page whose form ends in a redirect to the client
 * (or to a sign-in elsewhere) needs that target allowed besides the page itself.
 */
export function allowFormRedirects(reply: FastifyReply, sources: (string | undefined)[]): FastifyReply {
  // A separator in a source would end the directive early; helmet throws on one.
  const extra = sources.filter((source): source is string => source !== undefined && !/[;,\s]/.test(source))
  if (extra.length) reply.helmet({ contentSecurityPolicy: csp(["'self'", ...new Set(extra)]) })
  return reply
}
