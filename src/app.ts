import Fastify, { type FastifyInstance, type FastifyError, type FastifyPluginAsync, type FastifyServerOptions } from 'fastify'
import cors from '@fastify/cors'
import formbody from '@fastify/formbody'
import type { Config } from './config.ts'
import { DatabaseUnavailableError, type Db } from './db/db.ts'
import { healthRoutes } from './health.ts'
import { lazyChildLogger, loggerOptions } from './log.ts'
import { embeddedAuth } from './embedded-auth/plugin.ts'
import { loadSigningKeys } from './embedded-auth/keys.ts'
import { authorizationServerMetadata } from './embedded-auth/oauth-server/routes.ts'
import { authPlugin, protectedRoutes } from './auth/plugin.ts'
import type { AuthMode } from './auth/mode.ts'
import { mcpPlugin } from './mcp/plugin.ts'
import { loginRateLimiter } from './auth/login-rate-limit.ts'
import { internalCallHeaders } from './embedded-auth/internal-call.ts'
import { withoutTrailingSlashes } from './http/trailing-slashes.ts'

export const BODY_LIMIT_BYTES = 1 << 20

export interface AppDeps {
  db: Db
  /** Replaces the auth mode `AUTH_MODE` would pick (tests use it to plug in their own). */
  authMode?: AuthMode
  /** Overrides the logger (tests pass a stream to read what was logged). */
  logger?: FastifyServerOptions['logger']
  /** More routes behind the auth hook (tests add one to probe it; routes must exist before listen). */
  extraRoutes?: FastifyPluginAsync
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    db: Db
    /** Every route registered, for the bad-input suite that walks them all. */
    routeTable: { method: string; url: string }[]
    /** The key the embedded auth's admin API accepts (configured or derived); unset without the embedded auth. */
    embeddedAuthServiceRoleKey: string | undefined
  }
}

/**
 * TRUST_PROXY=N: the last N hops of `X-Forwarded-For` are proxies, the one before them the
 * client. Fastify trusts nothing for a bare count, since a client that reaches the server
 * directly could write those hops itself; setting a count states that only the proxies can.
 */
function trustLastHops(hops: number) {
  return (_address: string, hop: number) => hop < hops
}

/** Builds the whole server without listening, so tests can `inject` into it. */
export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? loggerOptions(config),
    childLoggerFactory: lazyChildLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: typeof config.trustProxy === 'number' ? trustLastHops(config.trustProxy) : config.trustProxy,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    // Browsers and some proxies send `//path`; treat it as `/path` instead of a 404.
    routerOptions: { ignoreDuplicateSlashes: true },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  })
  app.decorate('config', config)
  app.decorate('db', deps.db)
  const routeTable: { method: string; url: string }[] = []
  app.decorate('routeTable', routeTable)
  app.decorate('embeddedAuthServiceRoleKey', undefined as string | undefined)
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routeTable.push({ method, url: route.url })
  })

  app.setErrorHandler(genericErrorHandler)
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'not_found', error_description: `no route for ${request.method} ${request.url.split('?')[0]}` })
  })

  await app.register(cors, {
    origin: config.corsOrigins.length === 0 ? false : config.corsOrigins.includes('*') ? true : config.corsOrigins,
    credentials: true,
    exposedHeaders: ['X-Supabase-Api-Version', 'WWW-Authenticate', 'Mcp-Session-Id', 'Retry-After', 'X-Total-Count', 'Link'],
    allowedHeaders: [
      'Accept', 'Authorization', 'Content-Type', 'apikey', 'X-Client-Info', 'X-Supabase-Api-Version',
      'Mcp-Session-Id', 'Mcp-Protocol-Version', 'Last-Event-ID',
    ],
  })
  await app.register(formbody, { bodyLimit: BODY_LIMIT_BYTES })
  // Everything this server serves lives under the path of BASE_URL (a site may mount it under
  // /fastmcp behind one proxy rule); only the RFC 8414/9728 well-known documents stay at the root.
  const basePath = withoutTrailingSlashes(new URL(config.baseUrl).pathname)
  await app.register(healthRoutes, { db: deps.db, prefix: basePath })
  // One password-attempt limit for every endpoint that checks a password, whichever mode.
  app.decorate('loginRateLimiter', await loginRateLimiter(app, config))

  let embeddedAuthHeaders: Record<string, string> = {}
  if (config.embeddedAuth.enabled) {
    // Instances sharing a PostgreSQL server share the key through it; PGlite keeps it in DATA_DIR.
    const keys = await loadSigningKeys(config.dataDir, config.databaseUrl ? deps.db : undefined)
    embeddedAuthHeaders = internalCallHeaders(keys)
    // Served where effectiveSupabaseUrl points: under the path of BASE_URL, if it has one.
    app.embeddedAuthServiceRoleKey = config.supabaseServiceRoleKey ?? keys.serviceRoleKey
    await app.register(embeddedAuth, { prefix: `${basePath}/auth/v1`, config, db: deps.db, keys, serviceRoleKey: app.embeddedAuthServiceRoleKey })
    // RFC 8414 path insertion at the root, where Supabase documents its OAuth server's metadata.
    app.get(`/.well-known/oauth-authorization-server${basePath}/auth/v1`, async (_request, reply) => {
      if (!config.embeddedAuth.oauthServer.enabled) {
        return reply.code(404).send({ code: 'feature_disabled', error_code: 'feature_disabled', message: 'OAuth server is disabled', msg: 'OAuth server is disabled' })
      }
      return reply.header('cache-control', 'public, max-age=600').send(authorizationServerMetadata(config))
    })
  }
  await app.register(authPlugin, { config, mode: deps.authMode, embeddedAuthHeaders })
  if (deps.extraRoutes) await app.register(protectedRoutes(deps.extraRoutes))
  await app.register(mcpPlugin, { db: deps.db, authMode: app.authMode, prefix: basePath })
  return app
}

/** The last resort for routes outside a plugin with its own error format. */
function genericErrorHandler(this: FastifyInstance, error: FastifyError, request: any, reply: any) {
  if (error instanceof DatabaseUnavailableError) {
    return reply.code(503).header('retry-after', '5').send({ error: 'temporarily_unavailable', error_description: 'the database cannot be reached; retry shortly' })
  }
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
  if (status === 500) request.log.error({ err: error }, 'unhandled error')
  return reply.code(status).send({
    error: status === 500 ? 'server_error' : status === 413 ? 'request_too_large' : 'invalid_request',
    error_description: status === 500 ? 'unexpected failure' : error.message,
  })
}
