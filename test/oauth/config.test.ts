import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.ts'

t.test('oauth settings', async (t) => {
  const defaults = loadConfig({}, {})
  t.same(defaults.oauth, { providers: [], registrationsPerHour: 20, metadataDocumentsAllowPrivate: false, upstream: 'password', supabaseClient: undefined }, 'defaults')
  const set = loadConfig({ OAUTH_PROVIDERS: 'GitHub, google', OAUTH_REGISTRATIONS_PER_HOUR: '0', OAUTH_CIMD_ALLOW_PRIVATE_HOSTS: 'true' }, {})
  t.same(set.oauth, { providers: ['github', 'google'], registrationsPerHour: 0, metadataDocumentsAllowPrivate: true, upstream: 'password', supabaseClient: undefined })
  let problems: string[] = []
  try {
    loadConfig({ OAUTH_REGISTRATIONS_PER_HOUR: 'many' }, {})
  } catch (error) {
    if (error instanceof ConfigError) problems = error.problems
  }
  t.match(problems, [/^OAUTH_REGISTRATIONS_PER_HOUR: accepts an integer from 0 \(no limit\) to 100000/], 'a bad value is named with what it accepts')
})
