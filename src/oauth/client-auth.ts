import type { FastifyRequest } from 'fastify'
import type { OAuthContext } from './context.ts'
import { safeEqual, sha256 } from '../crypto.ts'
import { InvalidClientError, InvalidRequestError } from './errors.ts'
import type { ClientRecord } from './store/types.ts'

interface Presented {
  clientId: string
  secret: string | undefined
  method: 'client_secret_basic' | 'client_secret_post' | 'none'
}

function presentedCredentials(request: FastifyRequest, body: Record<string, unknown>): Presented {
  const header = request.headers.authorization
  const bodyId = typeof body.client_id === 'string' ? body.client_id : undefined
  const bodySecret = typeof body.client_secret === 'string' ? body.client_secret : undefined
  if (header && /^basic /i.test(header)) {
    if (bodySecret !== undefined) throw new InvalidRequestError('use one client authentication method, not two')
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) throw new InvalidClientError('malformed Basic credentials')
    // RFC 6749 §2.3.1: both halves are form-urlencoded before being joined.
    let clientId: string
    let secret: string
    try {
      clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '))
      secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '))
    } catch {
      throw new InvalidClientError('malformed Basic credentials')
    }
    if (bodyId !== undefined && bodyId !== clientId) throw new InvalidClientError('client_id does not match the Basic credentials')
    return { clientId, secret, method: 'client_secret_basic' }
  }
  if (!bodyId) throw new InvalidClientError('client authentication is required (client_id missing)')
  return { clientId: bodyId, secret: bodySecret, method: bodySecret === undefined ? 'none' : 'client_secret_post' }
}

/**
 * Authenticates the client of a token, revocation or introspection request the way it
 * registered: a public client names itself, a confidential one proves its secret with its
 * registered method. Unknown or expired clients get 401 invalid_client.
 */
export async function authenticateClient(ctx: OAuthContext, request: FastifyRequest, body: Record<string, unknown>): Promise<ClientRecord> {
  const presented = presentedCredentials(request, body)
  const client = presented.clientId.length <= 2048 ? await ctx.findClient(presented.clientId, request.ip) : undefined
  if (!client) throw new InvalidClientError('unknown or expired client; register again')
  const registered = client.metadata.token_endpoint_auth_method
  if (registered === 'none') {
    if (presented.secret) throw new InvalidClientError('this client is public and has no secret')
    return client
  }
  if (presented.method !== registered || !presented.secret || !client.secretHash) {
    throw new InvalidClientError(`this client authenticates with ${registered}`)
  }
  if (!safeEqual(sha256(presented.secret), client.secretHash)) throw new InvalidClientError('client authentication failed')
  return client
}
