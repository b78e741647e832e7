import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.ts'

t.test('oauth settings', async (t) => {
  const defaults = loadConfig({}, {})
  t.same(defaults.oauth, { providers: [], registrationsPerHour: 20, metadataDocumentsAllowPrivate: false, upstream: 'password', supabaseClient: undefined, accessTokens: 'bound', accessTokenLifetimeSeconds: 3600 }, 'defaults')
  const set = loadConfig({ OAUTH_PROVIDERS: 'GitHub, google', OAUTH_REGISTRATIONS_PER_HOUR: '0', OAUTH_CIMD_ALLOW_PRIVATE_HOSTS: 'true', OAUTH_ACCESS_TOKENS: 'supabase', OAUTH_ACCESS_TOKEN_LIFETIME: '600' }, {})
  t.same(set.oauth, { providers: ['github', 'google'], registrationsPerHour: 0, metadataDocumentsAllowPrivate: true, upstream: 'password', supabaseClient: undefined, accessTokens: 'supabase', accessTokenLifetimeSeconds: 600 })
  let problems: string[] = []
  try {
    loadConfig({ OAUTH_REGISTRATIONS_PER_HOUR: 'many', OAUTH_ACCESS_TOKENS: 'opaque', OAUTH_ACCESS_TOKEN_LIFETIME: '10' }, {})
  } catch (error) {
    if (error instanceof ConfigError) problems = error.problems
  }
  t.match(problems, [/^OAUTH_REGISTRATIONS_PER_HOUR: accepts an integer from 0 \(no limit\) to 100000/, /^OAUTH_ACCESS_TOKENS: accepts one of bound, supabase/, /^OAUTH_ACCESS_TOKEN_LIFETIME: accepts an integer number of seconds from 60 to 86400/], 'a bad value is named with what it accepts')
})
