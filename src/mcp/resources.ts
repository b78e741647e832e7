import { ProtocolError, ProtocolErrorCode, ResourceNotFoundError, type Server } from '@modelcontextprotocol/server'
import type { UserContext } from '../auth/user-context.ts'
import { asUser } from '../db/as-user.ts'
import type { Db } from '../db/db.ts'
import { readEntity } from '../entities/entity-store.ts'
import { ENTITY_TYPES, type EntityType } from '../entities/entity-types.ts'
import { EntityError } from '../entities/errors.ts'
import { userFromAuthInfo } from './auth-info.ts'
import type { Unexpected } from './mcp-server.ts'
import { describeUser } from './tools/whoami.ts'

const PROFILE_URI = 'user://profile'
const ENTITY_URI = /^entity:\/\/([a-z_]+)\/([0-9a-f-]{36})$/i

/**
 * `user://profile` and the template `entity://{entity_type}/{id}`, so a client can attach the
 * caller or an entity as context. An entity the caller may not see does not exist here either:
 * both are the SDK's resource-not-found, -32602 with the uri in `data` (SEP-2164).
 */
export function registerResources(server: Server, db: Db, unexpected: Unexpected) {
  server.setRequestHandler('resources/list', async () => ({
    resources: [{ uri: PROFILE_URI, name: 'profile', title: 'Your profile', description: 'The signed-in user (as whoami returns it).', mimeType: 'application/json' }],
  }))
  server.setRequestHandler('resources/templates/list', async () => ({
    resourceTemplates: [
      {
        uriTemplate: 'entity://{entity_type}/{id}',
        name: 'entity',
        title: 'An entity',
        description: `One entity as JSON, to attach as context. entity_type: ${ENTITY_TYPES.join(', ')}.`,
        mimeType: 'application/json',
      },
    ],
  }))
  server.setRequestHandler('resources/read', async (request, ctx) => {
    const uri = request.params.uri
    const json = (value: unknown) => ({ contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(value, null, 2) }] })
    let user: UserContext
    try {
      user = userFromAuthInfo(ctx.http?.authInfo)
    } catch (error) {
      throw new ProtocolError(ProtocolErrorCode.InvalidRequest, (error as Error).message)
    }
    if (uri === PROFILE_URI) return json(describeUser(user))
    const match = ENTITY_URI.exec(uri)
    if (!match || !(ENTITY_TYPES as readonly string[]).includes(match[1]!)) {
      throw new ResourceNotFoundError(uri)
    }
    try {
      return json(await asUser(db, user, (tx) => readEntity(tx, match[1] as EntityType, match[2]!.toLowerCase())))
    } catch (error) {
      if (error instanceof EntityError) throw new ResourceNotFoundError(uri)
      throw unexpected(error, 'reading a resource')
    }
  })
}
