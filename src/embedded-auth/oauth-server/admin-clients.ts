import type { FastifyInstance, FastifyRequest } from 'fastify'
import { requireServiceRole } from '../admin-auth.ts'
import { isUuid } from '../authenticate.ts'
import type { AuthContext } from '../context.ts'
import { GoTrueError, validationFailed } from '../errors.ts'
import { clientJson, findClient, regenerateSecret, registerClient, updateClient, type OAuthClientRow } from './clients.ts'

/**
 * GoTrue's admin API for the clients of its OAuth server (`supabase.auth.admin.oauth.*`),
 * for the service-role key only: register (as `manual`), list, get, update, delete and a new
 * secret. A client's secret is shown only when it is made.
 */
export async function adminOAuthClientRoutes(app: FastifyInstance, { ctx }: { ctx: AuthContext }) {
  const { db } = ctx
  app.addHook('onRequest', async (request) => {
    await requireServiceRole(request, ctx)
    if (!ctx.config.embeddedAuth.oauthServer.enabled) throw new GoTrueError(404, 'feature_disabled', 'OAuth server is disabled')
  })

  async function loadClient(request: FastifyRequest): Promise<OAuthClientRow> {
    const id = (request.params as { client_id?: string }).client_id
    if (!isUuid(id)) throw validationFailed('invalid client_id format')
    const client = await findClient(db, id)
    if (!client) throw new GoTrueError(404, 'oauth_client_not_found', 'OAuth client not found')
    return client
  }

  const params = { type: 'object', properties: { client_id: { type: 'string' } } } as const
  const body = { type: 'object' } as const

  app.get('/admin/oauth/clients', async () => {
    const { rows } = await db.query<OAuthClientRow>('select * from embedded_auth.oauth_clients order by created_at desc, id desc')
    return { clients: rows.map((row) => clientJson(row)) }
  })
  app.post('/admin/oauth/clients', { schema: { body } }, async (request, reply) => {
    const { row, secret } = await registerClient(db, request.body as Record<string, unknown>, 'manual')
    return reply.code(201).send(clientJson(row, secret))
  })
  app.get('/admin/oauth/clients/:client_id', { schema: { params } }, async (request) => clientJson(await loadClient(request)))
  app.put('/admin/oauth/clients/:client_id', { schema: { params, body } }, async (request) =>
    clientJson(await updateClient(db, await loadClient(request), request.body as Record<string, unknown>)),
  )
  app.delete('/admin/oauth/clients/:client_id', { schema: { params } }, async (request, reply) => {
    const client = await loadClient(request)
    // Its authorizations, consents and sessions go with it (the foreign keys cascade).
    await db.query('delete from embedded_auth.oauth_clients where id = $1', [client.id])
    return reply.code(204).send()
  })
  app.post('/admin/oauth/clients/:client_id/regenerate_secret', { schema: { params } }, async (request) => {
    const { row, secret } = await regenerateSecret(db, await loadClient(request))
    return clientJson(row, secret)
  })
}
