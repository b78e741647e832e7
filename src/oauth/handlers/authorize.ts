import type { FastifyInstance } from 'fastify'
import { errorRedirect, sendErrorPage, showFirstStep } from '../authorization-flow.ts'
import { hashNonce } from '../browser-binding.ts'
import { TTL, type OAuthContext } from '../context.ts'
import { PKCE_PATTERN, randomToken } from '../../crypto.ts'
import { OAuthError } from '../errors.ts'
import { matchRedirectUri } from '../redirect-uris.ts'
import { isOurResource } from '../resource.ts'
import { grantScope, withResourceScopes } from '../scopes.ts'
import { pathOf } from '../urls.ts'

const MAX_STATE_LENGTH = 2048
const PARAMS = ['response_type', 'client_id', 'redirect_uri', 'code_challenge', 'code_challenge_method', 'state', 'scope', 'resource', 'prompt'] as const

/**
 * GET /authorize (RFC 6749 §4.1.1 with OAuth 2.1's PKCE). Until the client and its redirect
 * URI are known to be genuine, errors are shown on a page and never sent anywhere (an open
 * redirect otherwise, RFC 9700 §4.11.2): an unknown client, a redirect URI it did not
 * register, and any error of a client that never redeemed a code, since anybody can register
 * a client naming any site. After that they go back to the client with `state` and `iss`.
 */
export async function authorizeRoutes(app: FastifyInstance, { ctx }: { ctx: OAuthContext }) {
  app.get(pathOf(ctx.urls.authorize), { schema: { querystring: { type: 'object', additionalProperties: true } } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>
    const param: Partial<Record<(typeof PARAMS)[number], string>> = {}
    const repeated: string[] = []
    for (const name of PARAMS) {
      const value = query[name]
      if (typeof value === 'string') param[name] = value
      else if (value !== undefined) repeated.push(name)
    }

    const client = param.client_id && param.client_id.length <= 2048 ? await ctx.findClient(param.client_id, request.ip) : undefined
    if (!client) {
      return sendErrorPage(reply, 400, 'Unknown application', 'The application asking to sign you in is not registered with this server (or its registration expired). Reconnect from the application so it registers again.')
    }
    const redirectUri = repeated.includes('redirect_uri') ? undefined : matchRedirectUri(client.metadata.redirect_uris, param.redirect_uri)
    if (!redirectUri) {
      return sendErrorPage(reply, 400, 'Invalid redirect', 'The address this request would send you back to is not one the application registered.')
    }

    const fail = async (code: OAuthError['code'], description: string) => {
      if (await ctx.store.clients.proven(client.clientId)) return reply.redirect(errorRedirect(ctx, redirectUri, param.state, code, description), 302)
      return sendErrorPage(reply, 400, 'Invalid request', `The application sent a request this server cannot accept (${code}: ${description}).`)
    }
    if (repeated.length) return fail('invalid_request', `parameters may not be repeated: ${repeated.join(', ')}`)
    if (param.state !== undefined && param.state.length > MAX_STATE_LENGTH) return fail('invalid_request', 'state is too long')
    if (param.response_type !== 'code') return fail('unsupported_response_type', 'response_type must be code')
    if (!param.code_challenge) return fail('invalid_request', 'code_challenge is required (PKCE with S256)')
    if (param.code_challenge_method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256; plain is not supported')
    if (!PKCE_PATTERN.test(param.code_challenge) || param.code_challenge.length !== 43) return fail('invalid_request', 'code_challenge is not a S256 challenge')
    if (param.resource !== undefined && !isOurResource(param.resource, ctx.urls.resource)) {
      return fail('invalid_target', `resource must be ${ctx.urls.resource}`)
    }
    let scope: string
    try {
      scope = grantScope(param.scope, withResourceScopes(client.metadata.scope).split(' '))
    } catch (error) {
      if (error instanceof OAuthError) return fail(error.code, error.message)
      throw error
    }

    const nonce = ctx.binding.ensure(request, reply)
    const handle = randomToken()
    const pending = {
      clientId: client.clientId,
      redirectUri,
      state: param.state,
      codeChallenge: param.code_challenge,
      scope,
      resource: ctx.urls.resource,
      browserHash: hashNonce(nonce),
      promptConsent: (param.prompt ?? '').split(' ').includes('consent'),
      providerVerifier: undefined,
      user: undefined,
      session: undefined,
    }
    await ctx.store.authorizations.create(handle, pending, TTL.pendingAuthorization)
    return showFirstStep(ctx, reply, { handle, request: pending, client, nonce })
  })
}
