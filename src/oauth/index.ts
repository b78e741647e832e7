import { decodeProtectedHeader } from 'jose'
import type { FastifyInstance } from 'fastify'
import { LONGEST_ACCESS_TOKEN_SECONDS } from '../auth/ended-sessions.ts'
import type { AuthMode } from '../auth/mode.ts'
import { verifyingMode } from '../auth/modes/verifying-mode.ts'
import { KeyStore } from '../auth/strategies/key-store.ts'
import type { VerifierDeps } from '../auth/strategies/verifiers.ts'
import type { Config } from '../config.ts'
import type { Db } from '../db/db.ts'
import { ACCESS_TOKEN_TYPE, boundAccessTokens, boundTokenVerifier, supabaseAccessTokens } from './access-tokens.ts'
import { browserBinding } from './browser-binding.ts'
import { oauthChallengeParams } from './challenge.ts'
import { createClientResolver } from './client-resolver.ts'
import type { OAuthContext } from './context.ts'
import { authorizationServer } from './routes.ts'
import { oauthSecrets, postgresOAuthStore } from './store/postgres.ts'
import { loadTokenKey } from './token-key.ts'
import { keyRing } from './signing-keys.ts'
import { createOidcUpstream } from './oidc/upstream.ts'
import { createSupabaseOAuthUpstream } from './supabase-oauth-upstream.ts'
import { createUpstream, type Upstream } from './upstream.ts'
import { oauthUrls } from './urls.ts'
import { supabaseTokenVerifier, userContextFrom } from './verify-token.ts'

export { oauthChallengeParams } from './challenge.ts'

const SWEEP_INTERVAL_MS = 10 * 60 * 1000

/** Where users sign in (OAUTH_UPSTREAM): our page with the password grant, Supabase's OAuth server, or an OpenID provider. */
function upstreamFor(config: Config, db: Db, headers: Record<string, string> | undefined): Upstream {
  const client = config.oauth.supabaseClient
  const oidc = config.oauth.oidc
  if (config.oauth.upstream === 'oidc' && oidc) return createOidcUpstream({ ...config, oauth: { ...config.oauth, oidc } }, db)
  return config.oauth.upstream === 'supabase-oauth' && client ? createSupabaseOAuthUpstream(config, client) : createUpstream(config, headers)
}

function localCheck(config: Config) {
  const verify = supabaseTokenVerifier(config)
  return async (token: string) => userContextFrom(token, await verify(token))
}

export interface OAuthModeOptions {
  config: Config
  db: Db
  /** Headers the default upstream adds to its calls (this server's own calls to its embedded auth). */
  upstreamHeaders?: Record<string, string>
  upstream?: Upstream
  /**
   * How Supabase access tokens are checked, when they are what we hand out
   * (OAUTH_ACCESS_TOKENS=supabase), and told about sessions this server ended. Defaults to a
   * local check against the project JWKS; the server's shared token validation can be passed
   * instead.
   */
  tokens?: Pick<AuthMode, 'authenticate' | 'forget' | 'forgetSession'>
}

/** The oauth mode also tells the /mcp challenge where its metadata is. */
export type OAuthMode = AuthMode & { challengeParams(): Record<string, string> }

/**
 * AUTH_MODE=oauth without the authorization server (the stdio transport, spawned by the user
 * with a token of their own in MCP_AUTH_TOKEN): our access tokens are checked against the
 * JWKS the server at BASE_URL publishes, and a Supabase session token as in bearer mode, since
 * stdio has no resource for a token to be bound to.
 */
export function oauthTokenChecks(deps: VerifierDeps, supabaseChecks: AuthMode): AuthMode {
  if (deps.config.oauth.accessTokens !== 'bound') return supabaseChecks
  const urls = oauthUrls(deps.config.baseUrl)
  const keys = new KeyStore({ jwksUrl: urls.jwks, secret: undefined, timeoutMs: deps.config.upstreamTimeoutMs, log: deps.log })
  const bound = verifyingMode('oauth', boundTokenVerifier(keys, urls))
  return { ...supabaseChecks, authenticate: (token) => (isOurAccessToken(token) ? bound.authenticate(token) : supabaseChecks.authenticate(token)) }
}

/** Our access tokens say so in their header (`typ: at+jwt`, RFC 9068); Supabase's do not. */
function isOurAccessToken(token: string): boolean {
  try {
    return decodeProtectedHeader(token).typ === ACCESS_TOKEN_TYPE
  } catch {
    return false
  }
}

/**
 * AUTH_MODE=oauth: an OAuth 2.1 authorization server with dynamic registration in front of
 * Supabase Auth. By default (OAUTH_ACCESS_TOKENS=bound) it hands out its own access tokens,
 * for /mcp only, and /mcp accepts nothing else; with `supabase` it hands out the Supabase
 * JWTs themselves, checked by `authenticate` like every other mode's.
 */
export function createOAuthMode({ config, db, upstreamHeaders, upstream = upstreamFor(config, db, upstreamHeaders), tokens }: OAuthModeOptions): OAuthMode {
  const urls = oauthUrls(config.baseUrl)
  const keys = config.oauth.accessTokens === 'bound' ? keyRing({ secret: oauthSecrets(db) }) : undefined
  // With our own tokens, /mcp accepts nothing else; their checks are the ones told what ended.
  const checks = keys ? verifyingMode('oauth', boundTokenVerifier(keys, urls)) : tokens
  const check = checks ? (token: string) => checks.authenticate(token) : localCheck(config)
  const forget = (token: string, expiresAt: number) => checks?.forget?.(token, expiresAt)
  const forgetSession = (sessionId: string, until: number) => checks?.forgetSession?.(sessionId, until)
  let sweeper: NodeJS.Timeout | undefined

  return {
    name: 'oauth',
    authenticate: check,
    forget,
    forgetSession,
    challengeParams: () => oauthChallengeParams(config.baseUrl),
    async routes(app: FastifyInstance) {
      await upstream.start?.({ log: app.log, serviceRoleKey: app.embeddedAuthServiceRoleKey })
      const store = postgresOAuthStore(db, await loadTokenKey(config, db))
      const dropped = await store.refreshTokens.dropUnkeyed()
      if (dropped > 0) {
        app.log.warn({ dropped }, 'oauth: refresh tokens stored under the former unkeyed hash were ended; their clients sign in again')
      }
      const ctx: OAuthContext = {
        config,
        urls,
        store,
        upstream,
        binding: browserBinding(await store.secret('browser-binding'), urls.issuer.startsWith('https://')),
        accessTokens: keys ? boundAccessTokens(keys, config, urls) : supabaseAccessTokens,
        keys,
        findClient: createClientResolver(config, store, app.log),
        verifyAccessToken: check,
        forgetToken: forget,
        forgetSession: (sessionId) => {
          if (sessionId) forgetSession(sessionId, Math.floor(Date.now() / 1000) + LONGEST_ACCESS_TOKEN_SECONDS)
        },
      }
      await app.register(authorizationServer, { ctx })
      const sweep = () => store.sweep().catch((error) => app.log.warn({ err: error }, 'oauth: sweeping expired rows failed'))
      sweeper = setInterval(sweep, SWEEP_INTERVAL_MS)
      sweeper.unref()
      // Once at start too: a server restarted often would otherwise never sweep.
      app.addHook('onReady', async () => void sweep())
      app.addHook('onClose', async () => clearInterval(sweeper))
    },
    async close() {
      clearInterval(sweeper)
    },
  }
}
