import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.ts'
import { createSupabaseGateway, type SupabaseGateway } from '../supabase/gateway.ts'
import { bearerTokenFrom } from './bearer-token.ts'
import { sendAuthError } from './challenge.ts'
import { AuthError, InsufficientScopeError } from './errors.ts'
import type { AuthMode } from './mode.ts'
import { createAuthMode } from './modes/index.ts'
import type { UserContext } from './user-context.ts'

declare module 'fastify' {
  interface FastifyInstance {
    authMode: AuthMode
    supabaseGateway: SupabaseGateway
  }
  interface FastifyRequest {
    /** Who is calling; set by `requireUser` on every protected route (and only there). */
    user: UserContext
  }
}

export interface AuthPluginOptions {
  config: Config
  /** A mode to use instead of the one `AUTH_MODE` picks. */
  mode?: AuthMode
  /** Headers this server's own calls to its embedded auth carry (see embedded-auth/internal-call.ts). */
  embeddedAuthHeaders?: Record<string, string>
}

/** Decorates the server with the active auth mode and registers that mode's own routes. */
export const authPlugin = fp(
  async (app: FastifyInstance, { config, mode: given, embeddedAuthHeaders }: AuthPluginOptions) => {
    const gateway = createSupabaseGateway(config, embeddedAuthHeaders)
    const mode = given ?? createAuthMode({ config, gateway, log: app.log, db: app.db, embeddedAuthHeaders })
    app.decorate('supabaseGateway', gateway)
    app.decorate('authMode', mode)
    app.decorateRequest('user', null as unknown as UserContext)
    if (mode.routes) await app.register(mode.routes)
    if (mode.close) app.addHook('onClose', () => mode.close!())
  },
  { name: 'atoms-auth' },
)

export interface RequireUserOptions {
  /** Scopes the token must carry, all of them (403 `insufficient_scope` otherwise). */
  scopes?: string[]
}

/**
 * The hook every protected route runs: the active mode authenticates the bearer token and
 * `request.user` is set; otherwise the request ends with the challenge from `challenge.ts`.
 */
export function requireUser(options: RequireUserOptions = {}) {
  const required = options.scopes ?? []
  return async function authenticateRequest(request: FastifyRequest, reply: FastifyReply) {
    const mode = request.server.authMode
    try {
      const user = await mode.authenticate(bearerTokenFrom(request.headers.authorization))
      if (!required.every((scope) => user.scopes.includes(scope))) throw new InsufficientScopeError(required)
      request.user = user
    } catch (error) {
      if (!(error instanceof AuthError)) throw error
      return sendAuthError(reply, error, mode.challengeParams?.())
    }
  }
}

/** Wraps routes so that each of them requires an authenticated user (see `requireUser`). */
export function protectedRoutes(routes: FastifyPluginAsync, options: RequireUserOptions = {}): FastifyPluginAsync {
  return async (scope) => {
    scope.addHook('onRequest', requireUser(options))
    await scope.register(routes)
  }
}
