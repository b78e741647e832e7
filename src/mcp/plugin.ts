import type { FastifyInstance } from 'fastify'
import type { AuthMode } from '../auth/mode.ts'
import type { Db } from '../db/db.ts'
import { legacySseRoutes } from './legacy-sse.ts'
import { createMcpCore } from './mcp-server.ts'
import { openRedis, throttledWarning } from '../redis-client.ts'
import { RedisUsageCounter, UsageCounter, type UsageTracker } from './usage.ts'
import { originGuard } from './origin-guard.ts'
import { restRoutes } from './rest.ts'
import { streamableHttpRoutes, unauthenticatedBenchRoute } from './streamable-http.ts'
import { BENCH_USER } from './bench-user.ts'

export interface McpPluginOptions {
  db: Db
  authMode: AuthMode
}

/**
 * Every way to reach the tools over HTTP: Streamable HTTP at /mcp, the 2024-11-05 HTTP+SSE
 * transport at /sse, and the REST surface under /api/mcp. One MCP server serves them all.
 */
export async function mcpPlugin(app: FastifyInstance, options: McpPluginOptions) {
  const { config } = app
  const core = await createMcpCore({ db: options.db, logError: (error, message) => app.log.error({ err: error }, message), usage: await usageTracker(app) })
  app.addHook('onClose', () => core.close())

  const guard = originGuard(config)
  if (guard) app.addHook('onRequest', guard)

  const routeOptions = { core, authMode: options.authMode, baseUrl: config.baseUrl }
  await app.register(streamableHttpRoutes, routeOptions)
  await app.register(legacySseRoutes, routeOptions)
  await app.register(restRoutes, routeOptions)
  if (config.benchUnauthenticatedMcp) {
    // Config refuses this switch unless HOST is loopback; it is still said loudly at every start.
    app.log.error('BENCH_UNAUTHENTICATED_MCP is set: POST /bench/mcp serves the tools WITHOUT authentication, as a fixed user. Benchmarks only; never set it in production.')
    await app.register(unauthenticatedBenchRoute, { ...routeOptions, user: BENCH_USER })
  }
}

/**
 * Tool calls are counted per user and minute. With a limit set they are refused past it, and
 * with REDIS_URL too the count is shared by every instance; without a limit each process
 * counts for get_api_usage only.
 */
async function usageTracker(app: FastifyInstance): Promise<UsageTracker> {
  const { usageLimitPerMinute: limit, redisUrl } = app.config
  if (limit === null || !redisUrl) return new UsageCounter({ limit })
  const warn = throttledWarning(app.log)
  const redis = await openRedis(app, redisUrl, warn, 'Redis for tool-call counts is unreachable; each instance counts on its own meanwhile')
  return new RedisUsageCounter(redis, warn, { limit })
}
