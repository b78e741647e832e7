import type { FastifyBaseLogger } from 'fastify'
import type { JWK } from 'jose'
import type { Config } from '../../config.ts'
import type { SupabaseGateway } from '../../supabase/gateway.ts'
import { AutoVerifier } from './auto.ts'
import { KeyStore } from './key-store.ts'
import { LocalJwtVerifier } from './local-jwt.ts'
import { RemoteUserVerifier } from './remote-user.ts'
import type { TokenVerifier } from './token-verifier.ts'

export interface VerifierDeps {
  config: Config
  gateway: SupabaseGateway
  log: FastifyBaseLogger
  /** The embedded auth's public keys, when this process verifies its tokens without its HTTP server (stdio). */
  localJwks?: JWK[]
}

function expectedClaims(config: Config) {
  return { issuer: config.jwtIssuer, audience: config.jwtAudience }
}

export function localJwtVerifier({ config, log, localJwks }: VerifierDeps): LocalJwtVerifier {
  const jwksUrl = config.jwksUrl
  // The anon key goes only to the project's own JWKS, never to a third-party JWKS_URL.
  const ownJwks = jwksUrl !== undefined && jwksUrl.startsWith(`${config.effectiveSupabaseUrl}/`)
  const keys = new KeyStore({
    jwksUrl,
    jwks: localJwks,
    secret: config.supabaseJwtSecret,
    headers: ownJwks ? { apikey: config.effectiveAnonKey } : {},
    timeoutMs: config.upstreamTimeoutMs,
    log,
  })
  if (!keys.configured) log.warn('local token verification has no key source (JWKS_URL=none and no SUPABASE_JWT_SECRET): every token will be refused')
  return new LocalJwtVerifier(keys, expectedClaims(config))
}

export function remoteUserVerifier({ config, gateway }: VerifierDeps): RemoteUserVerifier {
  return new RemoteUserVerifier(gateway, { ...expectedClaims(config), cacheTtlSeconds: config.tokenCacheTtlSeconds })
}

/** How the `simple` and `oauth` modes check Supabase tokens: `TOKEN_VALIDATION` decides. */
export function supabaseTokenVerifier(deps: VerifierDeps): TokenVerifier {
  const { config } = deps
  switch (config.tokenValidation) {
    case 'local':
      return localJwtVerifier(deps)
    case 'remote':
      return remoteUserVerifier(deps)
    case 'auto':
      if (!config.jwksUrl && !config.supabaseJwtSecret) return remoteUserVerifier(deps)
      return new AutoVerifier(localJwtVerifier(deps), remoteUserVerifier(deps))
  }
}
