import type { FastifyInstance } from 'fastify'
import type { AuthContext } from '../context.ts'
import { KNOWN_PROVIDERS } from './authorize.ts'
import { authorizationServerMetadata } from '../oauth-server/routes.ts'

const CACHE_10_MIN = 'public, max-age=600'

export async function discoveryRoutes(app: FastifyInstance, { ctx }: { ctx: AuthContext }) {
  const jwks = { keys: [ctx.keys.publicJwk] }
  // Always served, as GoTrue does; it describes the OAuth server whether or not it is on.
  const openidConfiguration = {
    ...authorizationServerMetadata(ctx.config),
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
