import type { FastifyInstance } from 'fastify'
import { validateClientMetadata } from '../client-metadata.ts'
import type { OAuthContext } from '../context.ts'
import { randomToken, sha256 } from '../../crypto.ts'
import { InvalidClientMetadataError, oauthErrorHandler, RateLimitedError } from '../errors.ts'
import { pathOf } from '../urls.ts'

const REGISTRATION_BODY_LIMIT = 16 * 1024
const RATE_WINDOW_SECONDS = 3600

/**
 * POST /register (RFC 7591). The secret of a confidential client is returned once and only
 * its hash is kept. Registrations are limited per address (TRUST_PROXY decides which
 * address that is) and expire when unused.
 */
export async function registerRoutes(app: FastifyInstance, { ctx }: { ctx: OAuthContext }) {
  app.post(
    pathOf(ctx.urls.register),
    {
      bodyLimit: REGISTRATION_BODY_LIMIT,
      schema: { body: { type: 'object', additionalProperties: true } },
      // RFC 7591 §3.2.2: a body that is not a metadata object is invalid_client_metadata.
      errorHandler: (error, request, reply) =>
        oauthErrorHandler(error.validation ? new InvalidClientMetadataError('the body must be a JSON object of client metadata') : error, request, reply),
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store')
      if (!request.headers['content-type']?.toLowerCase().startsWith('application/json')) {
        throw new InvalidClientMetadataError('send the client metadata as application/json')
      }
      const limit = ctx.config.oauth.registrationsPerHour
      if (limit > 0 && (await ctx.store.hit(`register:${request.ip}`, RATE_WINDOW_SECONDS)) > limit) {
        throw new RateLimitedError(RATE_WINDOW_SECONDS)
      }
      const metadata = validateClientMetadata((request.body ?? {}) as Record<string, unknown>)
      const clientId = randomToken(16)
      const secret = metadata.token_endpoint_auth_method === 'none' ? undefined : randomToken()
      const client = await ctx.store.clients.create({ clientId, secretHash: secret ? sha256(secret) : null, metadata })
      return reply.code(201).send({
        client_id: client.clientId,
        client_id_issued_at: client.issuedAt,
        ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
        ...metadata,
      })
    },
  )
}
