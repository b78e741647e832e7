import type { FastifyInstance } from 'fastify'
import { authenticateUser } from '../authenticate.ts'
import type { AuthContext } from '../context.ts'
import { GoTrueError, validationFailed } from '../errors.ts'
import { endSessions, type LogoutScope } from '../sessions.ts'
import { userJson } from '../users.ts'

const SCOPES: LogoutScope[] = ['global', 'local', 'others']

export async function userRoutes(app: FastifyInstance, { ctx }: { ctx: AuthContext }) {
  app.get('/user', async (request) => {
    const { user, claims } = await authenticateUser(request, ctx.db, ctx.verify)
    const requestAudience = request.headers['x-jwt-aud']
    if (typeof requestAudience === 'string' && requestAudience !== '' && requestAudience !== claims.aud) {
      throw validationFailed("Token audience doesn't match request audience")
    }
    return userJson(user)
  })

  app.post(
    '/logout',
    { schema: { querystring: { type: 'object', properties: { scope: { type: 'string' } } } } },
    async (request, reply) => {
      const scope = ((request.query as { scope?: string }).scope || 'global') as LogoutScope
      if (!SCOPES.includes(scope)) throw new GoTrueError(400, 'validation_failed', `Unsupported logout scope "${scope}"`)
      const { user, claims } = await authenticateUser(request, ctx.db, ctx.verify)
      await ctx.db.transaction((tx) => endSessions(tx, user.id, claims.session_id as string | undefined, scope))
      return reply.code(204).send()
    },
  )
}
