import type { FastifyInstance } from 'fastify'
import { authenticateClient } from '../client-auth.ts'
import { firstString, TTL, type OAuthContext } from '../context.ts'
import { PKCE_PATTERN, s256, safeEqual, sha256 } from '../../crypto.ts'
import {
  InvalidGrantError, InvalidRequestError, InvalidScopeError, InvalidTargetError, TemporarilyUnavailableError,
  UnauthorizedClientError, UnsupportedGrantTypeError,
} from '../errors.ts'
import { claimRefreshToken, endSpentSession, upstreamRefreshToken } from '../refresh-claim.ts'
import { isOurResource } from '../resource.ts'
import { scopeWithin, withResourceScopes } from '../scopes.ts'
import type { ClientRecord, TokenResponse } from '../store/types.ts'
import { MISCONFIGURED_CLIENT } from '../supabase-oauth-upstream.ts'
import { isOutage, UpstreamError } from '../upstream.ts'
import { pathOf } from '../urls.ts'

/** POST /token (RFC 6749 §4.1.3 and §6): authorization_code and refresh_token. */
export async function tokenRoutes(app: FastifyInstance, { ctx }: { ctx: OAuthContext }) {
  const { store, upstream } = ctx
  const log = app.log

  function checkResource(body: Record<string, unknown>) {
    const resource = body.resource
    if (resource === undefined) return
    if (typeof resource !== 'string' || !isOurResource(resource, ctx.urls.resource)) throw new InvalidTargetError(`resource must be ${ctx.urls.resource}`)
  }

  async function authorizationCodeGrant(client: ClientRecord, body: Record<string, unknown>): Promise<TokenResponse> {
    const code = firstString(body.code)
    const verifier = firstString(body.code_verifier)
    const redirectUri = firstString(body.redirect_uri)
    if (!code) throw new InvalidRequestError('code is required')
    if (!verifier) throw new InvalidRequestError('code_verifier is required (PKCE)')
    checkResource(body)
    if (!PKCE_PATTERN.test(verifier)) throw new InvalidGrantError('code_verifier is malformed')
    const withRefresh = client.metadata.grant_types.includes('refresh_token')
    const respond = await ctx.accessTokens.responder()
    const redemption = await store.codes.redeem(
      code,
      sha256(`${client.clientId}\n${verifier}`),
      TTL.replayWindow,
      (issued) => {
        if (issued.clientId !== client.clientId) throw new InvalidGrantError('the authorization code was issued to another client')
        // Without redirect_uri only the one a client could have left out at /authorize will do.
        const expected = redirectUri ?? (client.metadata.redirect_uris.length === 1 ? client.metadata.redirect_uris[0] : undefined)
        if (issued.redirectUri !== expected) throw new InvalidGrantError('redirect_uri differs from the one of the authorization request')
        if (!safeEqual(s256(verifier), issued.codeChallenge)) throw new InvalidGrantError('code_verifier does not match the code_challenge')
      },
      (issued) => respond(issued.session, issued, withRefresh),
    )
    if (!redemption) throw new InvalidGrantError('the authorization code is invalid or has expired')
    if (redemption.outcome === 'reused') {
      log.warn({ clientId: client.clientId, userId: redemption.code.userId }, 'oauth: authorization code used twice; its session is ended')
      // RFC 6749 §4.1.2: a code used twice has leaked; end what it gave out.
      await upstream.logout(redemption.code.session.accessToken).catch(() => {})
      ctx.forgetToken(redemption.code.session.accessToken, redemption.code.session.expiresAt)
      if (redemption.response?.refresh_token) await store.refreshTokens.revoke(redemption.response.refresh_token)
      throw new InvalidGrantError('the authorization code has already been used')
    }
    return redemption.response
  }

  async function refreshTokenGrant(client: ClientRecord, body: Record<string, unknown>): Promise<TokenResponse> {
    const refreshToken = firstString(body.refresh_token)
    if (!refreshToken) throw new InvalidRequestError('refresh_token is required')
    checkResource(body)
    const claim = await claimRefreshToken(ctx, refreshToken, client.clientId)
    if (claim.kind === 'invalid') throw new InvalidGrantError(claim.reason)
    if (claim.kind === 'reused') {
      log.warn({ clientId: client.clientId }, 'oauth: refresh token reused after rotation; its grant and session are ended')
      await store.refreshTokens.revoke(refreshToken)
      await endSpentSession(ctx, refreshToken, claim.session)
      ctx.forgetSession(claim.grant.sessionId)
      throw new InvalidGrantError('the refresh token has already been used')
    }
    if (claim.kind === 'replay') return claim.response
    const requestedScope = firstString(body.scope)
    if (requestedScope && !scopeWithin(requestedScope, withResourceScopes(claim.grant.scope))) {
      await store.refreshTokens.release(refreshToken)
      throw new InvalidScopeError('a refresh cannot widen the granted scope')
    }
    try {
      const respond = await ctx.accessTokens.responder()
      // Every refresh of ours refreshes the Supabase session too, so a user deleted or signed
      // out at Supabase is refused here at the latest.
      const session = await upstream.refresh(upstreamRefreshToken(refreshToken, claim.session))
      if (session.userId !== claim.grant.userId) throw new UpstreamError('grant')
      const grant = { ...claim.grant, scope: requestedScope || claim.grant.scope }
      const response = respond(session, grant, true)
      await store.refreshTokens.complete(refreshToken, { ...response, refresh_token: response.refresh_token! }, grant, session)
      return response
    } catch (error) {
      if (error instanceof UpstreamError && error.failure === 'misconfigured') {
        log.error(MISCONFIGURED_CLIENT)
      }
      if (error instanceof UpstreamError && !isOutage(error.failure)) {
        await store.refreshTokens.revoke(refreshToken)
        throw new InvalidGrantError('the refresh token is no longer valid')
      }
      await store.refreshTokens.release(refreshToken)
      if (error instanceof UpstreamError) throw new TemporarilyUnavailableError()
      throw error
    }
  }

  app.post(pathOf(ctx.urls.token), { schema: { body: { type: 'object', additionalProperties: true } } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
    const grantType = firstString(body.grant_type)
    if (!grantType) throw new InvalidRequestError('grant_type is required')
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token') throw new UnsupportedGrantTypeError()
    const client = await authenticateClient(ctx, request, body)
    if (!client.metadata.grant_types.includes(grantType)) throw new UnauthorizedClientError(`this client did not register the ${grantType} grant`)
    const response = grantType === 'authorization_code' ? await authorizationCodeGrant(client, body) : await refreshTokenGrant(client, body)
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(response))
  })
}
