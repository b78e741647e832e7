import type { FastifyInstance } from 'fastify'
import type { AuthContext } from '../context.ts'
import { KNOWN_PROVIDERS } from './authorize.ts'

const CACHE_10_MIN = 'public, max-age=600'

export async function discoveryRoutes(app: FastifyInstance, { ctx }: { ctx: AuthContext }) {
  const jwks = { keys: [ctx.keys.publicJwk] }
  const issuer = ctx.externalUrl
  const openidConfiguration = {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    userinfo_endpoint: `${issuer}/oauth/userinfo`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    code_challenge_methods_supported: ['S256', 'plain'],
    scopes_supported: ['openid', 'profile', 'email', 'phone', 'offline_access'],
    claims_supported: ['sub', 'aud', 'iss', 'exp', 'iat', 'email', 'email_verified', 'phone', 'phone_verified', 'name', 'picture', 'role', 'aal', 'amr', 'session_id', 'is_anonymous'],
  }
  const settings = ctx.config.embeddedAuth
  const external: Record<string, boolean> = { anonymous_users: false }
  for (const provider of KNOWN_PROVIDERS) external[provider] = settings.externalProviders.includes(provider)
  Object.assign(external, { email: true, phone: false })

  app.get('/.well-known/jwks.json', async (_request, reply) => reply.header('cache-control', CACHE_10_MIN).send(jwks))
  app.get('/.well-known/openid-configuration', async (_request, reply) => reply.header('cache-control', CACHE_10_MIN).send(openidConfiguration))
  app.get('/settings', async () => ({
    external,
    disable_signup: settings.disableSignup,
    mailer_autoconfirm: settings.autoconfirm,
    phone_autoconfirm: false,
    sms_provider: '',
    saml_enabled: false,
    saml_private_key_next_configured: false,
    passkeys_enabled: false,
  }))
  app.get('/health', async () => ({
    version: 'atoms-mcp-embedded',
    name: 'GoTrue',
    description: 'Embedded Supabase-compatible auth of atoms-mcp (a local stand-in for development and single-node use)',
  }))
}
