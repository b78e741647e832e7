import Fastify, { type FastifyInstance, type FastifyError } from 'fastify'
import cors from '@fastify/cors'
import formbody from '@fastify/formbody'
import type { Config } from './config.ts'
import { DatabaseUnavailableError, type Db } from './db/db.ts'
import { healthRoutes } from './health.ts'
import { loggerOptions } from './log.ts'
import { embeddedAuth } from './embedded-auth/plugin.ts'
import { loadSigningKeys } from './embedded-auth/keys.ts'
import { createOAuthMode } from './oauth/index.ts'

export const BODY_LIMIT_BYTES = 1 << 20

export interface AppDeps {
  db: Db
  /** Overrides the logger (tests pass a stream to read what was logged). */
  logger?: Parameters<typeof Fastify>[0] extends infer O ? (O extends { logger?: infer L } ? L : never) : never
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    db: Db
  }
}

/** Builds the whole server without listening, so tests can `inject` into it. */
export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? loggerOptions(config),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.trustProxy,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    // Browsers and some proxies send `//path`; treat it as `/path` instead of a 404.
    routerOptions: { ignoreDuplicateSlashes: true },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  })
  app.decorate('config', config)
  app.decorate('db', deps.db)

  app.setErrorHandler(genericErrorHandler)
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'not_found', error_description: `no route for ${request.method} ${request.url.split('?')[0]}` })
  })

  await app.register(cors, {
    origin: config.corsOrigins.length === 0 ? false : config.corsOrigins.includes('*') ? true : config.corsOrigins,
    credentials: true,
    exposedHeaders: ['X-Supabase-Api-Version', 'WWW-Authenticate', 'Mcp-Session-Id', 'Retry-After'],
    allowedHeaders: [
      'Accept', 'Authorization', 'Content-Type', 'apikey', 'X-Client-Info', 'X-Supabase-Api-Version',
      'Mcp-Session-Id', 'Mcp-Protocol-Version', 'Last-Event-ID',
    ],
  })
  await app.register(formbody, { bodyLimit: BODY_LIMIT_BYTES })
  await app.register(healthRoutes, { db: deps.db })

  if (config.embeddedAuth.enabled) {
    const keys = await loadSigningKeys(config.dataDir)
    // Served where effectiveSupabaseUrl points: under the path of BASE_URL, if it has one.
    await app.register(embeddedAuth, { prefix: `${new URL(config.baseUrl).pathname.replace(/\/+$/, '')}/auth/v1`, config, db: deps.db, keys })
  }
  if (config.authMode === 'oauth') {
    const mode = createOAuthMode({ config, db: deps.db })
    await app.register(mode.routes!)
  }
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
