import type { FastifyInstance } from 'fastify'
import type { AuthMode } from '../auth/mode.ts'
import { verifyingMode } from '../auth/modes/verifying-mode.ts'
import { KeyStore } from '../auth/strategies/key-store.ts'
import type { VerifierDeps } from '../auth/strategies/verifiers.ts'
import type { UserContext } from '../auth/user-context.ts'
import type { Config } from '../config.ts'
import type { Db } from '../db/db.ts'
import { boundAccessTokens, boundTokenVerifier, supabaseAccessTokens } from './access-tokens.ts'
import { browserBinding } from './browser-binding.ts'
import { oauthChallengeParams } from './challenge.ts'
import { createClientResolver } from './client-resolver.ts'
import type { OAuthContext } from './context.ts'
import { authorizationServer } from './routes.ts'
import { postgresOAuthStore } from './store/postgres.ts'
import type { OAuthStore } from './store/types.ts'
import { keyRing } from './signing-keys.ts'
import { createSupabaseOAuthUpstream } from './supabase-oauth-upstream.ts'
import { createUpstream, type Upstream } from './upstream.ts'
import { oauthUrls } from './urls.ts'
import { supabaseTokenVerifier, userContextFrom } from './verify-token.ts'

export { oauthChallengeParams } from './challenge.ts'

const SWEEP_INTERVAL_MS = 10 * 60 * 1000

/** Where users sign in (OAUTH_UPSTREAM): our page with the password grant, or Supabase's OAuth server. */
function upstreamFor(config: Config): Upstream {
  const client = config.oauth.supabaseClient
  return config.oauth.upstream === 'supabase-oauth' && client ? createSupabaseOAuthUpstream(config, client) : createUpstream(config)
}

function localCheck(config: Config) {
  const verify = supabaseTokenVerifier(config)
  return async (token: string) => userContextFrom(token, await verify(token))
}

export interface OAuthModeOptions {
  config: Config
  db: Db
  store?: OAuthStore
  upstream?: Upstream
  /**
   * How Supabase access tokens are checked, when they are what we hand out
   * (OAUTH_ACCESS_TOKENS=supabase). Defaults to a local check against the project JWKS; the
   * server's shared token validation can be passed instead.
   */
  authenticate?: (token: string) => Promise<UserContext>
}

/** The oauth mode also tells the /mcp challenge where its metadata is. */
export type OAuthMode = AuthMode & { challengeParams(): Record<string, string> }

/**
 * AUTH_MODE=oauth without the authorization server (the stdio transport has no database):
 * our access tokens are checked against the JWKS the server at BASE_URL publishes.
 */
export function oauthTokenChecks(deps: VerifierDeps, supabaseChecks: AuthMode): AuthMode {
  if (deps.config.oauth.accessTokens !== 'bound') return supabaseChecks
  const urls = oauthUrls(deps.config.baseUrl)
  const keys = new KeyStore({ jwksUrl: urls.jwks, secret: undefined, timeoutMs: deps.config.upstreamTimeoutMs, log: deps.log })
  return verifyingMode('oauth', boundTokenVerifier(keys, urls))
}

/**
 * AUTH_MODE=oauth: an OAuth 2.1 authorization server with dynamic registration in front of
 * Supabase Auth. By default (OAUTH_ACCESS_TOKENS=bound) it hands out its own access tokens,
 * for /mcp only, and /mcp accepts nothing else; with `supabase` it hands out the Supabase
 * JWTs themselves, checked by `authenticate` like every other mode's.
 */
export function createOAuthMode({ config, db, store = postgresOAuthStore(db), upstream = upstreamFor(config), authenticate }: OAuthModeOptions): OAuthMode {
  const urls = oauthUrls(config.baseUrl)
  const keys = config.oauth.accessTokens === 'bound' ? keyRing({ secret: (name) => store.secret(name) }) : undefined
  const bound = keys ? verifyingMode('oauth', boundTokenVerifier(keys, urls)) : undefined
  const check = bound ? bound.authenticate : (authenticate ?? localCheck(config))
  let sweeper: NodeJS.Timeout | undefined

  return {
    name: 'oauth',
    authenticate: check,
    ...(bound?.forget ? { forget: bound.forget } : {}),
    challengeParams: () => oauthChallengeParams(config.baseUrl),
    async routes(app: FastifyInstance) {
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
