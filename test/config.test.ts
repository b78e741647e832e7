import t from 'tap'
import { spawnSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError, EMBEDDED_ANON_KEY, LEGACY_ALIASES, loadConfig } from '../src/config.ts'
import { tempDir } from './helpers/backends.ts'
import { isolatedEnv } from './helpers/child-env.ts'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))

/** The problems a configuration is refused with, or the empty list when it loads. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, {})
    return []
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
}

t.test('defaults', async (t) => {
  const config = loadConfig({}, {})
  t.equal(config.authMode, 'oauth')
  t.equal(config.transport, 'http')
  t.equal(config.host, 'localhost')
  t.equal(config.port, 8000)
  t.equal(config.baseUrl, 'http://localhost:8000')
  t.equal(config.supabaseUrl, undefined, 'no Supabase project: embedded auth')
  t.equal(config.embeddedAuth.enabled, true)
  t.equal(config.databaseUrl, undefined, 'no DATABASE_URL: embedded PGlite')
  t.equal(config.dataDir, resolve('./.data'))
  t.equal(config.logLevel, 'info')
  t.same(config.corsOrigins, [])
  t.equal(config.redisUrl, undefined)
  t.equal(config.effectiveSupabaseUrl, 'http://localhost:8000')
  t.equal(config.effectiveAnonKey, EMBEDDED_ANON_KEY)
  t.equal(config.jwtIssuer, 'http://localhost:8000/auth/v1')
  t.equal(config.jwksUrl, 'http://localhost:8000/auth/v1/.well-known/jwks.json')
  t.equal(config.embeddedAuth.autoconfirm, true)
  t.equal(config.embeddedAuth.disableSignup, false)
  t.equal(config.embeddedAuth.refreshTokenReuseIntervalSeconds, 10)
  t.equal(config.embeddedAuth.siteUrl, 'http://localhost:8000')
})

t.test('derived values', async (t) => {
  t.equal(loadConfig({ PORT: '9001' }, {}).baseUrl, 'http://localhost:9001', 'BASE_URL follows PORT')
  t.equal(loadConfig({ HOST: '0.0.0.0', PORT: '9001' }, {}).baseUrl, 'http://localhost:9001', 'a wildcard bind is reached at localhost')
  t.equal(loadConfig({ HOST: '::1' }, {}).baseUrl, 'http://[::1]:8000', 'IPv6 literals are bracketed')
  t.equal(loadConfig({ BASE_URL: 'https://mcp.example.com/' }, {}).baseUrl, 'https://mcp.example.com', 'a trailing slash is dropped')
  t.same(loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example,' }, {}).corsOrigins, ['https://a.example', 'https://b.example'])
  const project = loadConfig({ SUPABASE_URL: 'https://abc.supabase.co', SUPABASE_ANON_KEY: 'anon' }, {})
  t.equal(project.embeddedAuth.enabled, false, 'SUPABASE_URL turns the embedded auth off')
  t.equal(project.jwtIssuer, 'https://abc.supabase.co/auth/v1')
  t.equal(project.effectiveAnonKey, 'anon')
  t.equal(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/atoms' }, {}).databaseUrl, 'postgres://u:p@db:5432/atoms')
  t.equal(loadConfig({ AUTH_AUTOCONFIRM: 'false', AUTH_DISABLE_SIGNUP: 'true' }, {}).embeddedAuth.autoconfirm, false)
})

t.test('legacy aliases are read only when the new name is unset', async (t) => {
  const values: Record<string, [string, string, (c: ReturnType<typeof loadConfig>) => unknown, unknown, unknown]> = {
    AUTH_MODE: ['simple', 'bearer', (c) => c.authMode, 'simple', 'bearer'],
    BASE_URL: ['https://old.example.com', 'https://new.example.com', (c) => c.baseUrl, 'https://old.example.com', 'https://new.example.com'],
    PORT: ['9100', '9200', (c) => c.port, 9100, 9200],
    TRANSPORT: ['stdio', 'http', (c) => c.transport, 'stdio', 'http'],
    SUPABASE_URL: ['https://old.supabase.co', 'https://new.supabase.co', (c) => c.supabaseUrl, 'https://old.supabase.co', 'https://new.supabase.co'],
    SUPABASE_ANON_KEY: ['old-anon', 'new-anon', (c) => c.supabaseAnonKey, 'old-anon', 'new-anon'],
  }
  t.same(Object.keys(values).sort(), Object.keys(LEGACY_ALIASES).sort(), 'every alias is covered')
  // SUPABASE_URL needs an anon key and the other way round; give each its partner.
  const partner = (name: string): Record<string, string> =>
    name === 'SUPABASE_URL' ? { SUPABASE_ANON_KEY: 'k' } : name === 'SUPABASE_ANON_KEY' ? { SUPABASE_URL: 'https://p.supabase.co' } : {}
  for (const [name, [legacyValue, newValue, read, expectLegacy, expectNew]] of Object.entries(values)) {
    const legacy = LEGACY_ALIASES[name]!
    t.equal(read(loadConfig({ ...partner(name), [legacy]: legacyValue }, {})), expectLegacy, `${legacy} is read when ${name} is unset`)
    t.equal(read(loadConfig({ ...partner(name), [legacy]: legacyValue, [name]: newValue }, {})), expectNew, `${name} wins over ${legacy}`)
    t.equal(read(loadConfig({ ...partner(name), [legacy]: legacyValue, [name]: '' }, {})), expectLegacy, `an empty ${name} counts as unset`)
  }
  t.match(problemsOf({ ATOMS_FASTMCP_PORT: '99999' }), [/^PORT \(set as ATOMS_FASTMCP_PORT\): /], 'a bad legacy value is reported under the name that was set')
})

t.test('.env is read, under the process environment', async (t) => {
  const dir = tempDir()
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const envFile = join(dir, '.env')
  writeFileSync(
    envFile,
    ['# a comment', 'AUTH_MODE=simple', 'PORT=9300', 'LOG_LEVEL=debug', 'CORS_ORIGINS=', 'ATOMS_FASTMCP_BASE_URL=https://legacy.example.com', 'REDIS_URL="redis://127.0.0.1:6379"'].join('\n'),
  )
  const config = loadConfig({ LOG_LEVEL: 'warn' }, { envFile })
  t.equal(config.authMode, 'simple', 'a value from .env')
  t.equal(config.port, 9300)
  t.equal(config.logLevel, 'warn', 'the process environment wins over .env')
  t.same(config.corsOrigins, [], 'an empty assignment means unset')
  t.equal(config.baseUrl, 'https://legacy.example.com', 'a legacy alias in .env works too')
  t.equal(config.redisUrl, 'redis://127.0.0.1:6379', 'quotes are removed')
  t.equal(loadConfig({}, { envFile: join(dir, 'missing.env') }).authMode, 'oauth', 'a missing .env is fine')
})

t.test('a bad configuration lists one line per problem, naming the variable', async (t) => {
  const problems = problemsOf({ AUTH_MODE: 'magic', PORT: '70000', SUPABASE_URL: 'not a url', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', AUTH_AUTOCONFIRM: 'maybe' })
  t.equal(problems.length, 6, 'six problems')
  for (const name of ['AUTH_MODE', 'PORT', 'SUPABASE_URL', 'LOG_LEVEL', 'DATABASE_URL', 'AUTH_AUTOCONFIRM']) {
    t.equal(problems.filter((p) => p.startsWith(`${name}: `)).length, 1, `one line names ${name}`)
  }
  t.match(problems.find((p) => p.startsWith('AUTH_MODE')), /oauth, simple, bearer, jwt/, 'and says what it accepts')
  t.match(problems.find((p) => p.startsWith('PORT')), /0 to 65535/)
  t.ok(problems.every((p) => !p.includes('\n')), 'each problem is one line')

  t.match(problemsOf({ PORT: '-1' }), [/^PORT: /])
  t.match(problemsOf({ PORT: 'eighty' }), [/^PORT: /])
  t.match(problemsOf({ BASE_URL: 'ftp://example.com' }), [/^BASE_URL: .*http/])
  t.match(problemsOf({ SUPABASE_URL: 'https://abc.supabase.co' }), [/^SUPABASE_ANON_KEY: /], 'a project needs its anon key')
  t.match(
    problemsOf({ AUTH_MODE: 'jwt', SUPABASE_URL: 'https://abc.supabase.co', SUPABASE_ANON_KEY: 'k', JWKS_URL: 'none' }),
    [/^AUTH_MODE: jwt needs a key source/],
    'jwt mode with no key source',
  )
  t.same(problemsOf({ AUTH_MODE: 'jwt', SUPABASE_URL: 'https://abc.supabase.co', SUPABASE_ANON_KEY: 'k', JWKS_URL: 'none', SUPABASE_JWT_SECRET: 's'.repeat(32) }), [], 'a JWT secret is a key source')
  t.match(problemsOf({ SUPABASE_JWT_SECRET: 'short' }), [/^SUPABASE_JWT_SECRET: /])
  t.match(problemsOf({ REDIS_URL: 'http://cache' }), [/^REDIS_URL: /])
})

t.test('SUPABASE_SERVICE_ROLE_KEY opens the admin API, so a short one is refused', async (t) => {
  t.match(problemsOf({ SUPABASE_SERVICE_ROLE_KEY: 'short' }), [/^SUPABASE_SERVICE_ROLE_KEY: accepts a secret of at least 32 characters/])
  const key = 'k'.repeat(32)
  t.equal(loadConfig({ SUPABASE_SERVICE_ROLE_KEY: key }, {}).supabaseServiceRoleKey, key)
  t.equal(loadConfig({}, {}).supabaseServiceRoleKey, undefined, 'unset: the embedded auth derives one')
})

t.test('npm start with a bad environment: exit 1, one line per problem, no stack trace', async (t) => {
  // A directory of its own, so no .env of the working tree is read.
  const cwd = tempDir()
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }))
  const result = spawnSync(process.execPath, [MAIN], {
    cwd,
    env: isolatedEnv({ AUTH_MODE: 'magic', PORT: '70000', SUPABASE_URL: 'htp//broken' }),
    encoding: 'utf8',
    timeout: 30_000,
  })
  t.equal(result.status, 1, 'exit code 1')
  const lines = result.stderr.trim().split('\n')
  t.match(lines[0], /configuration is invalid/, 'a heading says what is wrong')
  for (const name of ['AUTH_MODE', 'PORT', 'SUPABASE_URL']) {
    t.equal(lines.filter((line) => line.trim().startsWith(`${name}: `)).length, 1, `one line for ${name}`)
  }
  t.equal(lines.length, 4, 'nothing else')
  t.notMatch(result.stderr, /^\s+at /m, 'no stack trace')
  t.equal(result.stdout, '', 'nothing on stdout')
})
