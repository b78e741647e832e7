import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../../config.ts'
import { SignJWT } from 'jose'
import { authenticateUser } from '../authenticate.ts'
import type { AuthContext } from '../context.ts'
import { GoTrueError, OverRequestRateLimitError, validationFailed } from '../errors.ts'
import { createSession, issueRefreshToken, rotateRefreshToken } from '../sessions.ts'
import { signAccessToken } from '../tokens.ts'
import { findUserById, isBanned, withIdentities, type UserRow, type UserWithIdentities } from '../users.ts'
import type { Queryable } from '../../db/db.ts'
import { approve, consentCovers, createAuthorization, deny, findPendingAuthorization, redeemCode, type AuthorizationRow } from './authorizations.ts'
import { clientJson, findClient, registerClient, registrationDisabled, secretMatches, type OAuthClientRow } from './clients.ts'
import { OAuthServerError } from './errors.ts'

export const OAUTH_SCOPES = ['openid', 'profile', 'email', 'phone', 'offline_access']
const DEFAULT_SCOPE = 'email'
const CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined)

/** The authorization server metadata of the embedded OAuth server (RFC 8414). */
export function authorizationServerMetadata(config: Config) {
  const issuer = `${config.baseUrl}/auth/v1`
  const settings = config.embeddedAuth.oauthServer
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    ...(settings.allowDynamicRegistration ? { registration_endpoint: `${issuer}/oauth/clients/register` } : {}),
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    userinfo_endpoint: `${issuer}/oauth/userinfo`,
    scopes_supported: OAUTH_SCOPES,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    code_challenge_methods_supported: ['S256', 'plain'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
  }
}

/** Client authentication at the token endpoint: Basic header, secret in the body, or a public client's id. */
async function authenticateClient(ctx: AuthContext, request: FastifyRequest, body: Record<string, unknown>): Promise<OAuthClientRow> {
  let clientId = str(body.client_id)
  let secret = str(body.client_secret)
  const header = request.headers.authorization
  if (typeof header === 'string' && /^basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) throw new OAuthServerError('invalid_client', 'Malformed client credentials')
    try {
      clientId = decodeURIComponent(decoded.slice(0, colon))
      secret = decodeURIComponent(decoded.slice(colon + 1))
    } catch {
      throw new OAuthServerError('invalid_client', 'Malformed client credentials')
    }
  }
  const client = await findClient(ctx.db, clientId)
  if (!client) throw new OAuthServerError('invalid_client', 'Client authentication failed')
  if (client.client_type === 'confidential' && !(secret && secretMatches(secret, client.client_secret_hash))) {
    throw new OAuthServerError('invalid_client', 'Client authentication failed')
  }
  return client
}

export async function oauthServerRoutes(app: FastifyInstance, { ctx }: { ctx: AuthContext }) {
  const settings = ctx.config.embeddedAuth.oauthServer
  const disabled = () => new GoTrueError(404, 'feature_disabled', 'OAuth server is disabled')

  app.get('/.well-known/oauth-authorization-server', async (_request, reply) => {
    if (!settings.enabled) throw disabled()
    return reply.header('cache-control', 'public, max-age=600').send(authorizationServerMetadata(ctx.config))
  })

  app.register(async (oauth) => {
    oauth.addHook('onRequest', async () => {
      if (!settings.enabled) throw disabled()
    })

    // Registrations per client address, under the limit /register of the oauth mode keeps
    // (OAUTH_REGISTRATIONS_PER_HOUR, 0 for none), in the store of the password-attempt limits.
    const perHour = ctx.config.oauth.registrationsPerHour
    const registrationCount = perHour > 0
      ? app.createRateLimit({ max: perHour, timeWindow: 3_600_000, keyGenerator: (request) => `embedded-oauth-registration:${request.ip}` })
      : undefined

    oauth.post('/oauth/clients/register', { schema: { body: { type: 'object' } } }, async (request, reply) => {
      if (!settings.allowDynamicRegistration) throw registrationDisabled()
      // A store that fails lets the registration through, as the password-attempt limit does.
      const verdict = await registrationCount?.(request).catch(() => undefined)
      if (verdict && !verdict.isAllowed && verdict.isExceeded) throw new OverRequestRateLimitError(Math.max(1, verdict.ttlInSeconds))
      const { row, secret } = await registerClient(ctx.db, request.body as Record<string, unknown>)
      return reply.code(201).send(clientJson(row, secret))
    })

    oauth.get('/oauth/authorize', { schema: { querystring: { type: 'object' } } }, async (request, reply) => {
      const query = request.query as Record<string, unknown>
      const client = await findClient(ctx.db, query.client_id)
      if (!client) throw new GoTrueError(400, 'oauth_client_not_found', 'OAuth client not found')
      const requested = str(query.redirect_uri)
      const redirectUri = requested ?? (client.redirect_uris.length === 1 ? client.redirect_uris[0] : undefined)
      if (!redirectUri || !client.redirect_uris.includes(redirectUri)) throw validationFailed('redirect_uri is not registered for this client')

      const state = str(query.state)
      const fail = (error: string, description: string) => {
        // Anybody may register a client naming any site: until one of its codes has been
        // redeemed, its redirect URI is not known to be its own, and an error sent there
        // would make this server an open redirector (RFC 9700 §4.11.2).
        if (!client.proven_at) throw validationFailed(`${error}: ${description}`)
        const url = new URL(redirectUri)
        url.searchParams.set('error', error)
        url.searchParams.set('error_description', description)
        if (state) url.searchParams.set('state', state)
        return reply.redirect(url.toString(), 302)
      }
      if (query.response_type !== 'code') return fail('unsupported_response_type', 'response_type must be code')
      const challenge = str(query.code_challenge)
      const method = (str(query.code_challenge_method) ?? 'plain').toLowerCase()
      if (!challenge) return fail('invalid_request', 'PKCE flow requires code_challenge')
      if (!CHALLENGE.test(challenge)) return fail('invalid_request', 'code_challenge must be 43 to 128 characters of [A-Za-z0-9._~-]')
      if (method !== 's256' && method !== 'plain') return fail('invalid_request', 'code_challenge_method must be S256 or plain')
      const scope = (str(query.scope) ?? DEFAULT_SCOPE).split(' ').filter(Boolean)
      if (scope.some((s) => !OAUTH_SCOPES.includes(s))) return fail('invalid_scope', `scope accepts ${OAUTH_SCOPES.join(' ')}`)

      const authorization = await createAuthorization(ctx.db, {
        clientId: client.id,
        redirectUri,
        scope: scope.join(' '),
        state,
        resource: str(query.resource),
        nonce: str(query.nonce),
        codeChallenge: challenge,
        codeChallengeMethod: method,
        ttlSeconds: settings.authorizationTtlSeconds,
      })
      const consent = new URL(settings.authorizationPath, ctx.config.embeddedAuth.siteUrl)
      consent.searchParams.set('authorization_id', authorization.id)
      return reply.redirect(consent.toString(), 302)
    })

    const notFound = () => new GoTrueError(404, 'oauth_authorization_not_found', 'OAuth authorization not found')
    const idParams = { type: 'object', properties: { authorization_id: { type: 'string' } }, required: ['authorization_id'] } as const

    /**
     * The pending authorization, bound to this user on first sight; another user never sees
     * it. The user is authenticated before the transaction opens: the embedded database
     * serves one transaction at a time, so a query outside it would wait for it forever.
     */
    async function withAuthorization<T>(request: FastifyRequest, work: (tx: Queryable, user: UserRow, authorization: AuthorizationRow) => Promise<T>) {
      const { user } = await authenticateUser(request, ctx.db, ctx.verify)
      return ctx.db.transaction(async (tx) => {
        const authorization = await findPendingAuthorization(tx, (request.params as { authorization_id: string }).authorization_id)
        if (!authorization || (authorization.user_id && authorization.user_id !== user.id)) throw notFound()
        return work(tx, user, authorization)
      })
    }

    oauth.get('/oauth/authorizations/:authorization_id', { schema: { params: idParams } }, async (request) =>
      withAuthorization(request, async (tx, user, authorization) => {
        if (await consentCovers(tx, user.id, authorization.client_id, authorization.scope)) {
          return { redirect_url: await approve(tx, authorization, user.id) }
        }
        await tx.query('update embedded_auth.oauth_authorizations set user_id = $2 where id = $1', [authorization.id, user.id])
        const client = (await findClient(tx, authorization.client_id))!
        return {
          authorization_id: authorization.id,
          redirect_uri: authorization.redirect_uri,
          client: { id: client.id, name: client.client_name ?? '', uri: client.client_uri ?? '', logo_uri: client.logo_uri ?? '' },
          user: { id: user.id, email: user.email ?? '' },
          scope: authorization.scope,
        }
      }),
    )

    oauth.post(
      '/oauth/authorizations/:authorization_id/consent',
      { schema: { params: idParams, body: { type: 'object', properties: { action: { type: 'string' } } } } },
      async (request) => {
        const action = (request.body as { action?: string }).action
        if (action !== 'approve' && action !== 'deny') throw validationFailed('action must be approve or deny')
        return withAuthorization(request, async (tx, user, authorization) => {
          return { redirect_url: action === 'approve' ? await approve(tx, authorization, user.id) : await deny(tx, authorization, user.id) }
        })
      },
    )

    oauth.post('/oauth/token', { schema: { body: { type: 'object' } } }, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>
      reply.header('cache-control', 'no-store')
      const grantType = str(body.grant_type)
      if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
        throw new OAuthServerError('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token')
      }
      const client = await authenticateClient(ctx, request, body)
      if (!client.grant_types.includes(grantType)) throw new OAuthServerError('unauthorized_client', `this client may not use ${grantType}`)

      if (grantType === 'authorization_code') {
        const code = str(body.code)
        if (!code) throw new OAuthServerError('invalid_request', 'code is required')
        return ctx.db.transaction(async (tx) => {
          const authorization = await redeemCode(tx, { code, clientId: client.id, redirectUri: str(body.redirect_uri), codeVerifier: str(body.code_verifier) ?? '' })
          const user = await findUserById(tx, authorization.user_id!)
          if (!user || isBanned(user)) throw new OAuthServerError('invalid_grant', 'The user of this grant cannot sign in')
          const session = await createSession(tx, user.id, 'oauth', { clientId: client.id, scope: authorization.scope })
          const refreshToken = await issueRefreshToken(tx, ctx.keys.refreshTokenSecret, session, null)
          return tokenResponse(await withIdentities(tx, user), session, refreshToken, client, authorization)
        })
      }

      const presented = str(body.refresh_token)
      if (!presented) throw new OAuthServerError('invalid_request', 'refresh_token is required')
      const outcome = await ctx.db
        .transaction((tx) => rotateRefreshToken(tx, ctx.keys.refreshTokenSecret, presented, ctx.config.embeddedAuth.refreshTokenReuseIntervalSeconds))
        .catch((error) => {
          if (error instanceof GoTrueError) throw new OAuthServerError('invalid_grant', 'Invalid refresh token')
          throw error
        })
      if (!outcome.ok) throw new OAuthServerError('invalid_grant', 'Invalid refresh token')
      if (outcome.session.oauth_client_id !== client.id) throw new OAuthServerError('invalid_grant', 'Refresh token was issued to another client')
      const user = await findUserById(ctx.db, outcome.session.user_id)
      if (!user || isBanned(user)) throw new OAuthServerError('invalid_grant', 'The user of this grant cannot sign in')
      return tokenResponse(await withIdentities(ctx.db, user), outcome.session, outcome.refreshToken, client, undefined)
    })

    async function tokenResponse(user: UserWithIdentities, session: Parameters<typeof signAccessToken>[3], refreshToken: string, client: OAuthClientRow, authorization: AuthorizationRow | undefined) {
      const { token, exp } = await signAccessToken(ctx.keys, ctx.tokens, user, session)
      const scope = session.scope ?? ''
      const response: Record<string, unknown> = {
        access_token: token,
        token_type: 'bearer',
        expires_in: exp - Math.floor(Date.now() / 1000),
        refresh_token: refreshToken,
      }
      if (scope.split(' ').includes('openid')) {
        response.id_token = await new SignJWT({
          email: scope.includes('email') ? user.email ?? '' : undefined,
          email_verified: scope.includes('email') ? !!user.email_confirmed_at : undefined,
          nonce: authorization?.nonce ?? undefined,
          auth_time: Math.floor(new Date(session.created_at).getTime() / 1000),
        })
          .setProtectedHeader({ alg: 'ES256', kid: ctx.keys.kid, typ: 'JWT' })
          .setIssuer(ctx.externalUrl)
          .setSubject(user.id)
          .setAudience(client.id)
          .setIssuedAt()
          .setExpirationTime(exp)
          .sign(ctx.keys.privateKey)
      }
      return response
    }

    oauth.get('/oauth/userinfo', async (request) => {
      const { user, claims } = await authenticateUser(request, ctx.db, ctx.verify)
      const scopes = new Set(String(claims.scope ?? 'openid email profile').split(' '))
      const metadata = user.raw_user_meta_data
      const info: Record<string, unknown> = { sub: user.id }
      if (scopes.has('email')) Object.assign(info, { email: user.email ?? '', email_verified: !!user.email_confirmed_at })
      if (scopes.has('profile')) {
        Object.assign(info, {
          name: metadata.full_name ?? metadata.name,
          picture: metadata.avatar_url ?? metadata.picture,
          preferred_username: metadata.user_name ?? metadata.preferred_username,
          updated_at: Math.floor(new Date(user.updated_at).getTime() / 1000),
          user_metadata: metadata,
        })
      }
      if (scopes.has('phone') && user.phone) Object.assign(info, { phone_number: user.phone, phone_number_verified: false })
      for (const key of Object.keys(info)) if (info[key] === undefined) delete info[key]
      return info
    })
  })
}
