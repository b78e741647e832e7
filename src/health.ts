import type { FastifyInstance } from 'fastify'
import type { Db } from './db/db.ts'

const healthSchema = {
  response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
} as const

const readySchema = {
  response: {
    200: { type: 'object', properties: { status: { type: 'string' }, database: { type: 'string' } } },
    503: { type: 'object', properties: { status: { type: 'string' }, database: { type: 'string' }, error: { type: 'string' } } },
  },
} as const

/** `/health` says the process is up; `/ready` says it can serve, which needs the database. */
export async function healthRoutes(app: FastifyInstance, options: { db: Db }) {
  app.get('/health', { schema: healthSchema, logLevel: 'warn' }, async () => ({ status: 'ok' }))
  app.get('/ready', { schema: readySchema, logLevel: 'warn' }, async (_request, reply) => {
    try {
      await options.db.ping()
      return { status: 'ready', database: options.db.kind }
    } catch {
      return reply.code(503).header('retry-after', '5').send({ status: 'unavailable', database: options.db.kind, error: 'database unreachable' })
    }
  })
}
