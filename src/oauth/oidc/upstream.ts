import { randomUUID } from 'node:crypto'
import * as client from 'openid-client'
import type { Config } from '../../config.ts'
import { randomToken, s256, sha256 } from '../../crypto.ts'
import { DatabaseUnavailableError, type Db } from '../../db/db.ts'
import { isLoopback } from '../../http/loopback.ts'
import { UpstreamUnavailableError } from '../../auth/errors.ts'
import { AdminApiError, createSupabaseAdmin, type SupabaseAdmin } from '../../supabase/admin-users.ts'
import { UpstreamError, type Upstream, type UpstreamFailure, type UpstreamSession, type UpstreamStart } from '../upstream.ts'
import { IDENTITY_SCOPES } from '../scopes.ts'
import { oauthUrls } from '../urls.ts'
import { AccountRefusedError, oidcAccounts, type OidcIdentity } from './accounts.ts'
import { postgresOidcLinks } from './links.ts'

type OidcConfig = Pick<Config, 'baseUrl' | 'effectiveSupabaseUrl' | 'effectiveAnonKey' | 'upstreamTimeoutMs' | 'supabaseServiceRoleKey'> & {
  oauth: Pick<Config['oauth'], 'accessTokenLifetimeSeconds'> & { oidc: NonNullable<Config['oauth']['oidc']> }
}

/** The log line for a `misconfigured` failure: the provider refused this server's client credentials. */
export const MISCONFIGURED_OIDC_CLIENT = "oauth: the OpenID provider refused this server's client credentials; check OIDC_CLIENT_ID and OIDC_CLIENT_SECRET"

/** Thrown by `start` when the provider cannot be used; its message is the one line the operator reads. */
export class OidcStartError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'OidcStartError'
  }
}

/**
 * The ID token's nonce, derived from this request's PKCE challenge: unpredictable (the
 * verifier behind it is random and never leaves this server), one per request, and
 * recomputed at the callback from the verifier, so no extra state is kept.
 */
const nonceFor = (codeChallenge: string) => sha256(`oidc-nonce\n${codeChallenge}`)

/** The session a sign-in at the provider gives: ours, for a Supabase user (see `refresh`). */
const SESSION_PREFIX = 'oidc.'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

function sessionFor(userId: string, email: string | undefined, lifetimeSeconds: number, sessionId: string = randomUUID()): UpstreamSession {
  const now = Math.floor(Date.now() / 1000)
  return {
    // No Supabase session stands behind it. This unsigned stand-in is never handed out (oidc
    // needs OAUTH_ACCESS_TOKENS=bound) nor verified anywhere: it only carries the claims our
    // access tokens take from a session, `session_id` above all, so that revoking the grant
    // ends its access tokens at once, as with a Supabase session.
    accessToken: `${segment({ alg: 'none' })}.${segment({ sub: userId, session_id: sessionId, aal: 'aal1', amr: [{ method: 'oauth', timestamp: now }] })}.`,
    refreshToken: `${SESSION_PREFIX}${userId}.${sessionId}.${randomToken()}`,
    expiresAt: now + lifetimeSeconds,
    userId,
    email,
  }
}

/** The user and session a refresh token of `sessionFor` names. */
function sessionOf(refreshToken: string): { userId: string; sessionId: string } | undefined {
  if (!refreshToken.startsWith(SESSION_PREFIX)) return undefined
  const [userId, sessionId] = refreshToken.slice(SESSION_PREFIX.length).split('.')
  return userId && sessionId && UUID.test(userId) && UUID.test(sessionId) ? { userId, sessionId } : undefined
}

function classifyClientError(error: unknown): UpstreamFailure | undefined {
  if (error instanceof UpstreamUnavailableError) return 'unavailable'
  if (error instanceof TypeError || (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError'))) return 'unavailable'
  if (error instanceof client.ResponseBodyError) return byTokenError(error.status, error.error)
  // A 401 with a WWW-Authenticate challenge (RFC 6749 §5.2): the client's credentials were refused.
  if (error instanceof client.WWWAuthenticateChallengeError) return byTokenError(error.status, error.cause[0]?.parameters.error)
  if (error instanceof client.ClientError) {
    const response = error.cause instanceof Response ? error.cause : undefined
    if (response && (response.status >= 500 || response.status === 429)) return 'unavailable'
    if (error.cause instanceof TypeError) return 'unavailable'
    return 'rejected'
  }
  if (error instanceof client.AuthorizationResponseError) return 'rejected'
  return undefined
}

function byTokenError(status: number, code: string | undefined): UpstreamFailure {
  if (status >= 500 || status === 429) return 'unavailable'
  if (code === 'invalid_grant') return 'grant'
  if (code === 'invalid_client' || code === 'unauthorized_client' || status === 401) return 'misconfigured'
  return 'rejected'
}

/**
 * OAUTH_UPSTREAM=oidc: users sign in at any OpenID provider (OIDC_ISSUER), where this server
 * is one confidential client, after approving on our consent page. openid-client does the
 * protocol: discovery, authorization code with our PKCE pair, `state` (the request handle),
 * `nonce`, RFC 9207 `iss` where the provider offers it, and the ID token checked against the
 * provider's JWKS. The person then maps to one Supabase user through the admin API
 * (accounts.ts), and our tokens are issued for that user.
 *
 * There is no Supabase session: our refresh of it re-reads the user at Supabase, so a user
 * deleted or banned there loses access at the next refresh.
 */
export function createOidcUpstream(config: OidcConfig, db: Db): Upstream {
  const settings = config.oauth.oidc
  const callback = oauthUrls(config.baseUrl).callback
  const lifetime = config.oauth.accessTokenLifetimeSeconds
  const links = postgresOidcLinks(db)
  let provider: client.Configuration | undefined
  let admin: SupabaseAdmin | undefined
  let log: UpstreamStart['log'] | undefined

  const ready = () => {
    if (!provider || !admin) throw new UpstreamError('unavailable')
    return { provider, admin }
  }

  function failure(error: unknown, step: string): never {
    if (error instanceof UpstreamError) throw error
    const kind = error instanceof AdminApiError ? 'unavailable' : classifyClientError(error)
    if (!kind) {
      if (error instanceof DatabaseUnavailableError) throw error
      // Anything else the protocol library throws is a refusal for the client, never a 500;
      // the operator sees it whole.
      log?.error({ step, err: error }, 'oauth: the sign-in at the OpenID provider failed unexpectedly')
      throw new UpstreamError('rejected')
    }
    // `code` is a redacted log field (authorization codes), so the check is logged as `check`.
    type Detail = { message?: string; code?: unknown; cause?: Detail & { claim?: unknown } }
    const { message, code: check, cause } = error as Detail
    // openid-client wraps oauth4webapi's error, whose cause names the claim that failed.
    const named = [cause?.claim, cause?.cause?.claim].find((value) => typeof value === 'string')
    const claim = typeof named === 'string' ? named : undefined
    log?.warn({ step, check, claim, reason: message }, `oauth: the sign-in at the OpenID provider failed (${kind})`)
    throw new UpstreamError(kind)
  }

  async function identityOf(tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers, p: client.Configuration): Promise<OidcIdentity> {
    const claims = tokens.claims()
    if (!claims) throw new UpstreamError('rejected')
    let email = typeof claims.email === 'string' && claims.email ? claims.email : undefined
    let verified = claims.email_verified === true
    if (!email) {
      // The ID token may leave the email to the userinfo endpoint (its `sub` checked to match).
      const info = await client.fetchUserInfo(p, tokens.access_token, claims.sub)
      email = typeof info.email === 'string' && info.email ? info.email : undefined
      verified = info.email_verified === true
    }
    return { issuer: claims.iss, subject: claims.sub, email: email?.toLowerCase(), emailVerified: verified }
  }

  return {
    get signInOrigin() {
      return provider ? new URL(provider.serverMetadata().authorization_endpoint!).origin : undefined
    },
    async start({ log: startLog, serviceRoleKey }) {
      log = startLog
      const key = config.supabaseServiceRoleKey ?? serviceRoleKey
      if (!admin) {
        if (!key) throw new OidcStartError('OAUTH_UPSTREAM=oidc: SUPABASE_SERVICE_ROLE_KEY is required to find and create users in Supabase')
        admin = createSupabaseAdmin(config, key)
      }
      const issuer = new URL(settings.issuer)
      const timeout = Math.max(1, Math.ceil(config.upstreamTimeoutMs / 1000))
      // Plain http only for a provider on this machine (a development or test provider).
      const execute = issuer.protocol === 'http:' && isLoopback(issuer.hostname) ? [client.allowInsecureRequests] : []
      let discovered: client.Configuration
      try {
        discovered = await client.discovery(issuer, settings.clientId, undefined, undefined, { execute, timeout })
      } catch (error) {
        // Discovery checks that the document names exactly this issuer (OpenID Connect Discovery §4.3).
        const otherIssuer = error instanceof client.ClientError && error.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED'
        const reason = otherIssuer ? 'it names another issuer; set OIDC_ISSUER exactly as the provider writes it' : error instanceof Error ? error.message : String(error)
        const document = `${settings.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
        throw new OidcStartError(`OIDC_ISSUER: cannot read ${document} (${reason}); check the issuer URL and that the provider is reachable`, { cause: error })
      }
      const metadata = discovered.serverMetadata()
      if (!metadata.authorization_endpoint || !metadata.token_endpoint || !metadata.jwks_uri) {
        throw new OidcStartError(`OIDC_ISSUER: the discovery document of ${settings.issuer} names no authorization, token or JWKS endpoint; it is not an OpenID provider this server can use`)
      }
      // The client authentication the provider takes; client_secret_basic is the default (RFC 8414 §2).
      const methods = metadata.token_endpoint_auth_methods_supported ?? ['client_secret_basic']
      const auth = methods.includes('client_secret_basic') ? client.ClientSecretBasic(settings.clientSecret) : client.ClientSecretPost(settings.clientSecret)
      provider = new client.Configuration(metadata, settings.clientId, settings.clientSecret, auth)
      for (const option of execute) option(provider)
      provider.timeout = timeout
      log.info({ issuer: metadata.issuer, rfc9207: metadata.authorization_response_iss_parameter_supported === true }, 'oauth: users sign in at the OpenID provider')
    },
    async signInWithPassword() {
      // This upstream has no password form; the sign-in happens at the provider.
      throw new UpstreamError('rejected')
    },
    providerUrl() {
      throw new Error('social providers are offered by the OpenID provider with OAUTH_UPSTREAM=oidc')
    },
    authorizationUrl(state, codeChallenge) {
      const { provider: p } = ready()
      return client
        .buildAuthorizationUrl(p, {
          redirect_uri: callback,
          scope: IDENTITY_SCOPES.join(' '),
          state,
          nonce: nonceFor(codeChallenge),
          code_challenge: codeChallenge,
          code_challenge_method: 'S256',
        })
        .toString()
    },
    async exchangeCode(code, codeVerifier, query) {
      const { provider: p, admin: a } = ready()
      const params = new URLSearchParams(query ?? { code })
      const state = params.get('state') ?? undefined
      let identity: OidcIdentity
      try {
        const tokens = await client.authorizationCodeGrant(p, new URL(`${callback}?${params}`), {
          pkceCodeVerifier: codeVerifier,
          expectedState: state,
          expectedNonce: nonceFor(s256(codeVerifier)),
          idTokenExpected: true,
        })
        identity = await identityOf(tokens, p)
      } catch (error) {
        failure(error, 'code exchange')
      }
      try {
        const user = await oidcAccounts(a, links, { createUsers: settings.createUsers }).resolve(identity)
        log?.info({ userId: user.id, issuer: identity.issuer }, 'oauth: signed in at the OpenID provider')
        return sessionFor(user.id, user.email ?? identity.email, lifetime)
      } catch (error) {
        if (error instanceof AccountRefusedError) {
          log?.info({ issuer: identity.issuer, reason: error.reason }, 'oauth: a sign-in at the OpenID provider found no Supabase user')
          throw new UpstreamError(error.reason === 'unverified' ? 'unconfirmed' : 'credentials')
        }
        failure(error, 'Supabase user')
      }
    },
    async refresh(refreshToken) {
      const { admin: a } = ready()
      const named = sessionOf(refreshToken)
      if (!named) throw new UpstreamError('grant')
      let user
      try {
        user = await a.getUser(named.userId)
      } catch (error) {
        if (error instanceof AdminApiError && error.status < 500) throw new UpstreamError('grant')
        failure(error, 'refresh')
      }
      if (!user || user.banned) throw new UpstreamError('grant')
      return sessionFor(user.id, user.email, lifetime, named.sessionId)
    },
    async logout() {
      // Nothing to end upstream: the provider's session is the provider's, and there is no Supabase one.
    },
  }
}
