import type { FastifyInstance } from 'fastify'
import type { OAuthContext } from './context.ts'
import { oauthErrorHandler } from './errors.ts'
import { authorizeRoutes } from './handlers/authorize.ts'
import { callbackRoutes } from './handlers/callback.ts'
import { consentRoutes } from './handlers/consent.ts'
import { openToBrowsers } from './cors.ts'
import { discoveryPaths, discoveryRoutes } from './handlers/discovery.ts'
import { introspectRoutes } from './handlers/introspect.ts'
import { registerRoutes } from './handlers/register.ts'
import { providerRoutes } from './handlers/provider.ts'
import { revokeRoutes } from './handlers/revoke.ts'
import { signInRoutes } from './handlers/sign-in.ts'
import { tokenRoutes } from './handlers/token.ts'
import { pathOf } from './urls.ts'
import { pageSecurity } from '../http/page-security.ts'

/** The whole authorization server as one Fastify plugin; errors leave it in OAuth's format. */
export async function authorizationServer(app: FastifyInstance, { ctx }: { ctx: OAuthContext }) {
  app.setErrorHandler(oauthErrorHandler)
  const { asPaths, prmPaths } = discoveryPaths(ctx.urls)
  openToBrowsers(app, [...asPaths, ...prmPaths, ...[ctx.urls.register, ctx.urls.token, ctx.urls.revoke, ctx.urls.jwks].map(pathOf)])
  const introspectionSecret = ctx.config.oauth.introspectionSecret
  await app.register(discoveryRoutes, { urls: ctx.urls, introspection: introspectionSecret !== undefined, ...(ctx.keys ? { jwks: ctx.keys.jwks } : {}) })
  for (const routes of [registerRoutes, tokenRoutes, revokeRoutes]) await app.register(routes, { ctx })
  if (introspectionSecret !== undefined) await app.register(introspectRoutes, { ctx, secret: introspectionSecret })
  // The browser's routes, pages and redirects, in a context of their own with the page headers.
  await app.register(async (pages) => {
    await pages.register(pageSecurity, { publicUrl: ctx.urls.issuer })
    for (const routes of [authorizeRoutes, signInRoutes, providerRoutes, consentRoutes, callbackRoutes]) await pages.register(routes, { ctx })
  })
}
