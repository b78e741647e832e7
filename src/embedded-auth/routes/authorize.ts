import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isUuid } from '../authenticate.ts'
import type { AuthContext } from '../context.ts'
import { GoTrueError, validationFailed } from '../errors.ts'
import { chooseRedirect } from '../redirects.ts'
import { createSession, issueRefreshToken } from '../sessions.ts'
import { sessionResponse } from '../tokens.ts'
import { findUserByEmail, findUserById, insertUser, withIdentities, type UserRow } from '../users.ts'
import { LOCAL_PROVIDER_PATH, readProviderCode } from './local-provider.ts'
import { FLOW_STATE_TTL_SECONDS } from './token.ts'
import { authCodeDigest } from '../flow-codes.ts'

/** Providers GoTrue knows; the local sign-in page can stand in for any of them when enabled. */
export const KNOWN_PROVIDERS = [
  'apple', 'azure', 'bitbucket', 'discord', 'facebook', 'figma', 'fly', 'github', 'gitlab', 'google', 'kakao', 'keycloak',
  'linkedin', 'linkedin_oidc', 'notion', 'slack', 'slack_oidc', 'snapchat', 'spotify', 'twitch', 'twitter', 'workos', 'zoom',
]

const CHALLENGE_CHARS = /^[A-Za-z0-9._~-]+$/

const authorizeSchema = {
  querystring: {
    type: 'object',
    properties: {
      provider: { type: 'string' },
      redirect_to: { type: 'string' },
      scopes: { type: 'string' },
      code_challenge: { type: 'string' },
      code_challenge_method: { type: 'string' },
    },
  },
} as const

interface FlowState {
  id: string
  auth_code: string | null
  code_challenge: string | null
  provider: string
  redirect_to: string
  user_id: string | null
  created_at: Date
}

function withQuery(target: string, params: Record<string, string>): string {
  const url = new URL(target)
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value)
  return url.toString()
}

/** GoTrue's error redirect: the error in the query, and again in the fragment for implicit clients. */
function errorRedirect(target: string, error: string, code: string, description: string): string {
  const params = { error, error_code: code, error_description: description }
  const url = new URL(withQuery(target, params))
  url.hash = new URLSearchParams({ ...params, sb: '' }).toString()
  return url.toString()
}

export async function authorizeRoutes(app: FastifyInstance, { ctx }: { ctx: AuthContext }) {
  const settings = ctx.config.embeddedAuth

  app.get('/authorize', { schema: authorizeSchema }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>
    const provider = (query.provider ?? '').toLowerCase()
    if (!KNOWN_PROVIDERS.includes(provider)) throw validationFailed(`Unsupported provider: Provider ${provider} could not be found`)
    if (!settings.externalProviders.includes(provider)) throw validationFailed('Unsupported provider: provider is not enabled')

    const challenge = query.code_challenge ?? ''
    const method = (query.code_challenge_method ?? '').toLowerCase()
    if (!!challenge !== !!method) throw validationFailed('PKCE flow requires code_challenge_method and code_challenge')
    if (challenge) {
      if (challenge.length < 43 || challenge.length > 128) throw validationFailed('code challenge has to be between 43 and 128 characters')
      if (!CHALLENGE_CHARS.test(challenge)) throw validationFailed('code challenge can only contain alphanumeric characters, hyphens, periods, underscores and tildes')
      if (method !== 's256' && method !== 'plain') throw validationFailed('Invalid code_challenge_method')
    }
    const redirectTo = chooseRedirect(query.redirect_to, request.headers.referer, settings.siteUrl, settings.uriAllowList)
    const flowId = randomUUID()
    await ctx.db.query(
      `insert into embedded_auth.flow_states (id, auth_code, code_challenge, code_challenge_method, provider, redirect_to, authentication_method)
       values ($1, $2, $3, $4, $5, $6, 'oauth')`,
      [flowId, challenge ? randomUUID() : null, challenge || null, method || null, provider, redirectTo],
    )
    const target = new URL(`${ctx.externalUrl}${LOCAL_PROVIDER_PATH}/authorize`)
    target.search = new URLSearchParams({
      provider,
      state: flowId,
      redirect_uri: `${ctx.externalUrl}/callback`,
      ...(query.scopes ? { scope: query.scopes } : {}),
    }).toString()
    return reply.redirect(target.toString(), 302)
  })

  async function findOrCreateUser(provider: string, providerId: string, email: string, name: string): Promise<UserRow> {
    return ctx.db.transaction(async (tx) => {
      const linked = (
        await tx.query<{ user_id: string }>('select user_id from embedded_auth.identities where provider = $1 and provider_id = $2', [provider, providerId])
      ).rows[0]
      if (linked) {
        await tx.query('update embedded_auth.identities set last_sign_in_at = now(), updated_at = now() where provider = $1 and provider_id = $2', [provider, providerId])
        return (await findUserById(tx, linked.user_id))!
      }
      // The stand-in vouches for any typed email, so an identity it brings is never linked to
      // an existing account by email: that would hand the account to whoever types it.
      if (await findUserByEmail(tx, email)) {
        throw new GoTrueError(422, 'email_exists', 'An account with this email address already exists; sign in with its password')
      }
      if (settings.disableSignup) throw new GoTrueError(422, 'signup_disabled', 'Signups not allowed for this instance')
      return insertUser(tx, {
        email,
        passwordHash: null,
        confirmed: true,
        provider,
        providerId,
        userMetadata: { name, full_name: name, email, provider_id: providerId, sub: providerId },
      })
    })
  }

  async function callback(request: FastifyRequest, reply: FastifyReply) {
    const params = { ...(request.query as Record<string, unknown>), ...((request.body as Record<string, unknown>) ?? {}) }
    const state = typeof params.state === 'string' ? params.state : ''
    const flow = isUuid(state)
      ? (await ctx.db.query<FlowState>('select * from embedded_auth.flow_states where id = $1', [state])).rows[0]
      : undefined
    if (!flow) return reply.redirect(errorRedirect(settings.siteUrl, 'invalid_request', 'bad_oauth_state', 'OAuth state parameter missing or invalid'), 302)
    const fail = (error: string, code: string, description: string) => reply.redirect(errorRedirect(flow.redirect_to, error, code, description), 302)
    if (flow.user_id) return fail('invalid_request', 'flow_state_already_used', 'Flow state already used')
    if (Date.now() > new Date(flow.created_at).getTime() + FLOW_STATE_TTL_SECONDS * 1000) {
      await ctx.db.query('delete from embedded_auth.flow_states where id = $1', [flow.id])
      return fail('invalid_request', 'flow_state_expired', 'Flow state has expired')
    }
    if (typeof params.error === 'string') {
      await ctx.db.query('delete from embedded_auth.flow_states where id = $1', [flow.id])
      return fail('access_denied', 'provider_disabled', typeof params.error_description === 'string' ? params.error_description : params.error)
    }
    const identity = await readProviderCode(ctx, typeof params.code === 'string' ? params.code : '', flow)
    if (!identity) return fail('invalid_request', 'bad_oauth_callback', 'OAuth callback with missing or invalid authorization code')

    let user: UserRow
    try {
      user = await findOrCreateUser(flow.provider, identity.providerId, identity.email, identity.name)
    } catch (error) {
      if (error instanceof GoTrueError) return fail('access_denied', error.code, error.message)
      throw error
    }

    if (flow.auth_code) {
      // Mark the flow as signed in only if nobody else did in between: a state works once.
      // The code is made now and only its digest kept; the one stored at /authorize marked
      // the flow as PKCE and was never handed out.
      const code = randomUUID()
      const updated = await ctx.db.query(
        'update embedded_auth.flow_states set user_id = $2, auth_code = $3, auth_code_issued_at = now() where id = $1 and user_id is null',
        [flow.id, user.id, authCodeDigest(code)],
      )
      if (updated.rowCount === 0) return fail('invalid_request', 'flow_state_already_used', 'Flow state already used')
      return reply.redirect(withQuery(flow.redirect_to, { code }), 302)
    }

    const session = await ctx.db.transaction(async (tx) => {
      const deleted = await tx.query('delete from embedded_auth.flow_states where id = $1', [flow.id])
      if (deleted.rowCount === 0) return undefined
      const row = await createSession(tx, user.id, 'oauth')
      const refreshToken = await issueRefreshToken(tx, ctx.keys.refreshTokenSecret, row, null)
      return sessionResponse(ctx.keys, ctx.tokens, await withIdentities(tx, user), row, refreshToken)
    })
    if (!session) return fail('invalid_request', 'flow_state_already_used', 'Flow state already used')
    const fragment = new URLSearchParams(
      Object.entries({
        access_token: session.access_token,
        expires_at: String(session.expires_at),
        expires_in: String(session.expires_in),
        provider_refresh_token: '',
        provider_token: '',
        refresh_token: session.refresh_token,
        sb: '',
        token_type: 'bearer',
      }).sort(([a], [b]) => a.localeCompare(b)),
    )
    const url = new URL(flow.redirect_to)
    url.hash = fragment.toString()
    return reply.redirect(url.toString(), 302)
  }

  const callbackSchema = { querystring: { type: 'object' }, body: { type: 'object' } } as const
  app.get('/callback', { schema: { querystring: callbackSchema.querystring } }, callback)
  app.post('/callback', { schema: callbackSchema }, callback)
}
