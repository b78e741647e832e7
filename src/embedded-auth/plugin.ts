import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.ts'
import type { Db } from '../db/db.ts'
import { readBodiesAsGoTrue, validateAsGoTrue } from './body.ts'
import type { AuthContext } from './context.ts'
import { GoTrueError, goTrueErrorHandler, sendGoTrueError } from './errors.ts'
import type { SigningKeys } from './keys.ts'
import { authorizeRoutes } from './routes/authorize.ts'
import { discoveryRoutes } from './routes/discovery.ts'
import { localProviderRoutes, LOCAL_PROVIDER_PATH } from './routes/local-provider.ts'
import { signupRoutes } from './routes/signup.ts'
import { tokenRoutes } from './routes/token.ts'
import { userRoutes } from './routes/user.ts'
import { userUpdateRoutes } from './routes/user-update.ts'
import { emailFlowRoutes } from './routes/email-flows.ts'
import { disabledFeatureRoutes } from './routes/disabled-features.ts'
import { adminUserRoutes } from './routes/admin-users.ts'
import { makeVerifier } from './tokens.ts'
import { serviceRoleMatcher } from './admin-auth.ts'
import { pageSecurity } from '../http/page-security.ts'
import { consentPageRoutes, LOCAL_CONSENT_PATH } from './oauth-server/consent-page.ts'
import { oauthServerRoutes } from './oauth-server/routes.ts'
import { adminOAuthClientRoutes } from './oauth-server/admin-clients.ts'

export interface EmbeddedAuthOptions {
  config: Config
  db: Db
  keys: SigningKeys
  /** The key of the admin API (`/admin/*`), configured or derived from the signing key. */
  serviceRoleKey: string
}

// Browsers open these without headers, so the gateway never asks them for an API key.
// The published keys and discovery are public too, as on hosted Supabase: verifiers such
// as jose's remote key set fetch them without an apikey.
const OPEN_PATHS = ['/authorize', '/callback', '/verify', '/oauth/authorize', LOCAL_PROVIDER_PATH, LOCAL_CONSENT_PATH, '/.well-known']

/**
 * A local stand-in for Supabase Auth (GoTrue), for development and single-node use: enough
 * of its wire contract that supabase-js works against it unchanged.
 */
export async function embeddedAuth(app: FastifyInstance, { serviceRoleKey, ...options }: EmbeddedAuthOptions) {
  const externalUrl = `${options.config.baseUrl}/auth/v1`
  const ctx: AuthContext = {
    ...options,
    externalUrl,
    isServiceRoleKey: serviceRoleMatcher(serviceRoleKey),
    tokens: { issuer: externalUrl, expirySeconds: options.config.embeddedAuth.jwtExpirySeconds },
    verify: makeVerifier(options.keys) as AuthContext['verify'],
  }

  app.setErrorHandler(goTrueErrorHandler)
  app.setNotFoundHandler((request, reply) => sendGoTrueError(request, reply, new GoTrueError(404, 'not_found', 'Not Found')))

  readBodiesAsGoTrue(app, { forms: true })

  const requiredKey = options.config.supabaseAnonKey
  if (requiredKey) {
    app.addHook('onRequest', async (request, reply) => {
      const path = request.url.slice(request.url.indexOf('/auth/v1') + '/auth/v1'.length).split('?')[0]!
      if (OPEN_PATHS.some((open) => path === open || path.startsWith(`${open}/`))) return
      const query = request.query as Record<string, unknown> | undefined
      const given = request.headers.apikey ?? query?.apikey
      // The gateway lets both keys through, as Supabase's lets the anon and admin consumers.
      if (given === requiredKey || (typeof given === 'string' && ctx.isServiceRoleKey(given))) return
      return reply
        .code(401)
        .send({ message: given ? 'Invalid API key' : 'No API key found in request', hint: 'No `apikey` request header or url param was found.' })
    })
  }

  // The API routes read JSON only, as GoTrue does; a form posted to them is bad JSON.
  await app.register(async (api) => {
    readBodiesAsGoTrue(api, { forms: false })
    validateAsGoTrue(api)
    for (const routes of [tokenRoutes, userRoutes, userUpdateRoutes, signupRoutes, emailFlowRoutes, disabledFeatureRoutes, adminUserRoutes, adminOAuthClientRoutes]) {
      await api.register(routes, { ctx })
    }
  })
  // Browsers post forms to these, and OAuth clients post forms to /oauth/token.
  for (const routes of [authorizeRoutes, discoveryRoutes, oauthServerRoutes]) await app.register(routes, { ctx })
  // The HTML pages, in a context of their own with the page headers.
  await app.register(async (pages) => {
    await pages.register(pageSecurity, { publicUrl: options.config.baseUrl })
    // The stand-in for social providers exists only when some are enabled (see local-provider.ts).
    if (options.config.embeddedAuth.externalProviders.length > 0) await pages.register(localProviderRoutes, { ctx })
    await pages.register(consentPageRoutes, { ctx })
  })
}
