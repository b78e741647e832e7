import type { FastifyInstance } from 'fastify'
import type { AuthMode } from '../auth/mode.ts'
import type { UserContext } from '../auth/user-context.ts'
import type { Config } from '../config.ts'
import type { Db } from '../db/db.ts'
import { browserBinding } from './browser-binding.ts'
import { oauthChallengeParams } from './challenge.ts'
import { createClientResolver } from './client-resolver.ts'
import type { OAuthContext } from './context.ts'
import { authorizationServer } from './routes.ts'
import { postgresOAuthStore } from './store/postgres.ts'
import { loadTokenKey } from './token-key.ts'
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
  upstream?: Upstream
  /**
   * How access tokens are checked. Defaults to a local check against the project JWKS;
   * the server's shared token validation can be passed instead.
   */
  authenticate?: (token: string) => Promise<UserContext>
}

/** The oauth mode also tells the /mcp challenge where its metadata is. */
export type OAuthMode = AuthMode & { challengeParams(): Record<string, string> }

/**
 * AUTH_MODE=oauth: an OAuth 2.1 authorization server with dynamic registration in front of
 * Supabase Auth. The tokens it hands out are the Supabase JWTs themselves, so
 * `authenticate` is the same check every mode ends in.
 */
export function createOAuthMode({ config, db, upstream = upstreamFor(config), authenticate }: OAuthModeOptions): OAuthMode {
  const urls = oauthUrls(config.baseUrl)
  const check = authenticate ?? localCheck(config)
  let sweeper: NodeJS.Timeout | undefined

  return {
    name: 'oauth',
    authenticate: check,
    challengeParams: () => oauthChallengeParams(config.baseUrl),
    async routes(app: FastifyInstance) {
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
