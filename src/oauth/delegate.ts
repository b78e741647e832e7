import type { FastifyInstance } from 'fastify'
import { verifyingMode } from '../auth/modes/verifying-mode.ts'
import type { TokenVerifier } from '../auth/strategies/token-verifier.ts'
import type { Config } from '../config.ts'
import { oauthChallengeParams } from './challenge.ts'
import { openToBrowsers } from './cors.ts'
import { discoveryPaths } from './handlers/discovery.ts'
import type { OAuthMode } from './index.ts'
import { protectedResourceMetadata } from './metadata.ts'
import { IDENTITY_SCOPES } from './scopes.ts'
import { oauthUrls } from './urls.ts'

/** The issuer of Supabase Auth's OAuth 2.1 server (the embedded auth's when SUPABASE_URL is unset). */
export const supabaseAuthorizationServer = (config: Pick<Config, 'effectiveSupabaseUrl'>) => `${config.effectiveSupabaseUrl}/auth/v1`

/**
 * OAUTH_UPSTREAM=delegate: no authorization server of our own. The protected resource
 * metadata names Supabase's OAuth server, clients register and sign in there, and the
 * Supabase JWTs it issues are checked like any other (the jwt strategy).
 */
export function createDelegatingMode(config: Config, verifier: TokenVerifier): OAuthMode {
  const urls = oauthUrls(config.baseUrl)
  // Supabase's OAuth server knows only the identity scopes.
  const prm = { ...protectedResourceMetadata(urls, IDENTITY_SCOPES), authorization_servers: [supabaseAuthorizationServer(config)] }
  const { prmPaths } = discoveryPaths(urls)
  const routes = async (app: FastifyInstance) => {
    openToBrowsers(app, [...prmPaths])
    for (const path of prmPaths) {
      app.get(path, { schema: { response: { 200: { type: 'object', additionalProperties: true } } } }, async (_request, reply) => {
        reply.header('cache-control', 'public, max-age=300')
        return prm
      })
    }
  }
  return { ...verifyingMode('oauth', verifier, routes), challengeParams: () => oauthChallengeParams(config.baseUrl, IDENTITY_SCOPES) }
}
