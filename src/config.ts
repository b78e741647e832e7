import { existsSync } from 'node:fs'
import { isIP } from 'node:net'
import { resolve } from 'node:path'
import { parse as parseDotenv } from 'dotenv'
import { readFileSync } from 'node:fs'
import envSchema from 'env-schema'
import { isLoopback } from './http/loopback.ts'
import { withoutTrailingSlashes } from './http/trailing-slashes.ts'

export const AUTH_MODES = ['oauth', 'simple', 'bearer', 'jwt'] as const
/** Where AUTH_MODE=oauth signs users in: our page with Supabase's password grant, Supabase's own OAuth server behind us, Supabase's OAuth server alone, or any OpenID provider behind us. */
export const OAUTH_UPSTREAMS = ['password', 'supabase-oauth', 'delegate', 'oidc'] as const
/** WorkOS AuthKit's issuer for a client id, when WORKOS_CLIENT_ID stands in for OIDC_CLIENT_ID. */
export const workosIssuer = (clientId: string) => `https://api.workos.com/user_management/${clientId}`
/** What the authorization server of AUTH_MODE=oauth hands out as access tokens: its own, bound to /mcp, or the Supabase session's. */
export const OAUTH_ACCESS_TOKENS = ['bound', 'supabase'] as const
export type AuthModeName = (typeof AUTH_MODES)[number]
export const TRANSPORTS = ['http', 'stdio'] as const
export const TOKEN_VALIDATIONS = ['auto', 'local', 'remote'] as const

export interface Config {
  authMode: AuthModeName
  transport: (typeof TRANSPORTS)[number]
  /** stdio transport: the token tool calls use when they carry no `auth_token` argument. */
  mcpAuthToken: string | undefined
  host: string
  port: number
  baseUrl: string
  /** Unset: the embedded auth serves `${baseUrl}/auth/v1`. */
  supabaseUrl: string | undefined
  supabaseAnonKey: string | undefined
  supabaseJwtSecret: string | undefined
  /**
   * The embedded auth's service-role key, for its admin API. Unset: derived from its
   * signing key (stable across restarts and shared by the instances of one database).
   */
  supabaseServiceRoleKey: string | undefined
  /** Unset: embedded PGlite in `${dataDir}/pgdata`. */
  databaseUrl: string | undefined
  /** Named prepared statements on DATABASE_URL connections (off behind a pooler without them). */
  databasePreparedStatements: boolean
  dataDir: string
  logLevel: string
  corsOrigins: string[]
  redisUrl: string | undefined
  /**
   * Which `X-Forwarded-For` hops to believe (Fastify's `trustProxy`): none, the last N, or
   * those added by the listed proxy addresses and ranges. Never every hop: the left-most
   * value is whatever the client wrote.
   */
  trustProxy: false | number | string[]
  jwksUrl: string | undefined
  jwtIssuer: string
  jwtAudience: string
  tokenCacheTtlSeconds: number
  tokenValidation: (typeof TOKEN_VALIDATIONS)[number]
  upstreamTimeoutMs: number
  /**
   * Password attempts allowed per client address and, separately, per account in each window,
   * counted together over every endpoint that checks a password.
   */
  loginRateLimit: { max: number; windowMs: number }
  /** Tool calls each user may make per minute; null when unlimited (USAGE_LIMIT_PER_MINUTE=0). */
  usageLimitPerMinute: number | null
  /**
   * Benchmarks only: serves `/bench/mcp`, the MCP endpoint with NO authentication, as a fixed
   * user, to measure what authentication costs. Refused unless HOST is loopback.
   */
  benchUnauthenticatedMcp: boolean
  embeddedAuth: {
    enabled: boolean
    disableSignup: boolean
    autoconfirm: boolean
    siteUrl: string
    uriAllowList: string[]
    jwtExpirySeconds: number
    refreshTokenReuseIntervalSeconds: number
    minPasswordLength: number
    /**
     * Social providers the local sign-in page stands in for. That page signs anyone in as
     * whatever email they type, so it is off unless listed here and needs a loopback HOST.
     */
    externalProviders: string[]
    /** The OAuth 2.1 server of Supabase Auth, with a local consent page for the project's web app. */
    oauthServer: {
      enabled: boolean
      allowDynamicRegistration: boolean
      /** Path on the site (AUTH_SITE_URL) that hosts the consent page. */
      authorizationPath: string
      authorizationTtlSeconds: number
    }
  }
  /** The authorization server of AUTH_MODE=oauth. */
  oauth: {
    /** Social providers offered on the sign-in page (enabled in the Supabase project). */
    providers: string[]
    /** Dynamic registrations accepted per client address and hour; 0 turns the limit off. */
    registrationsPerHour: number
    /** Lets Client ID Metadata Documents live on private or loopback addresses (development only). */
    metadataDocumentsAllowPrivate: boolean
    upstream: (typeof OAUTH_UPSTREAMS)[number]
    /** This server's client at Supabase's OAuth server (OAUTH_UPSTREAM=supabase-oauth). */
    supabaseClient: { id: string; secret: string } | undefined
    /** The OpenID provider users sign in at (OAUTH_UPSTREAM=oidc), and this server's client there. */
    oidc: { issuer: string; clientId: string; clientSecret: string; createUsers: boolean } | undefined
    /**
     * The key refresh tokens are hashed and sealed under, kept out of the database; unset, a
     * key file in DATA_DIR. Every instance on one database needs the same.
     */
    tokenKey: string | undefined
    /**
     * The secret resource servers send (as a bearer token) to POST /introspect; unset, the
     * endpoint is not served.
     */
    introspectionSecret: string | undefined
    accessTokens: (typeof OAUTH_ACCESS_TOKENS)[number]
    /** The longest an access token of ours lives; the Supabase session behind it may shorten it. */
    accessTokenLifetimeSeconds: number
  }
  /** Where the server's own supabase-js client points: the real project or the embedded auth. */
  effectiveSupabaseUrl: string
  effectiveAnonKey: string
}

/** Thrown for a configuration that cannot start; `problems` holds one line per variable. */
export class ConfigError extends Error {
  readonly problems: string[]
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/** Names deployments of the earlier server used; read only when the new name is unset. */
export const LEGACY_ALIASES: Record<string, string> = {
  AUTH_MODE: 'ATOMS_FASTMCP_AUTH_MODE',
  BASE_URL: 'ATOMS_FASTMCP_BASE_URL',
  PORT: 'ATOMS_FASTMCP_PORT',
  TRANSPORT: 'ATOMS_FASTMCP_TRANSPORT',
  SUPABASE_URL: 'NEXT_PUBLIC_SUPABASE_URL',
  SUPABASE_ANON_KEY: 'NEXT_PUBLIC_SUPABASE_ANON_KEY',
}

/** The anon key the embedded auth hands out when none is configured; it grants nothing by itself. */
export const EMBEDDED_ANON_KEY = 'sb_publishable_atoms_local_embedded_auth'

const schema = {
  type: 'object',
  properties: {
    AUTH_MODE: { type: 'string', enum: [...AUTH_MODES], default: 'oauth' },
    TRANSPORT: { type: 'string', enum: [...TRANSPORTS], default: 'http' },
    MCP_AUTH_TOKEN: { type: 'string' },
    HOST: { type: 'string', minLength: 1, default: 'localhost' },
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 8000 },
    BASE_URL: { type: 'string' },
    SUPABASE_URL: { type: 'string' },
    SUPABASE_ANON_KEY: { type: 'string' },
    SUPABASE_JWT_SECRET: { type: 'string' },
    SUPABASE_SERVICE_ROLE_KEY: { type: 'string' },
    DATABASE_URL: { type: 'string' },
    DATABASE_PREPARED_STATEMENTS: { type: 'boolean', default: true },
    DATA_DIR: { type: 'string', minLength: 1, default: './.data' },
    LOG_LEVEL: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    CORS_ORIGINS: { type: 'string', default: '' },
    REDIS_URL: { type: 'string' },
    TRUST_PROXY: { type: 'string', default: 'false' },
    JWKS_URL: { type: 'string' },
    JWT_ISSUER: { type: 'string' },
    JWT_AUDIENCE: { type: 'string', minLength: 1, default: 'authenticated' },
    TOKEN_CACHE_TTL: { type: 'integer', minimum: 0, maximum: 3600, default: 30 },
    TOKEN_VALIDATION: { type: 'string', enum: [...TOKEN_VALIDATIONS], default: 'auto' },
    UPSTREAM_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 120000, default: 5000 },
    LOGIN_RATE_LIMIT_MAX: { type: 'integer', minimum: 1, maximum: 100000, default: 10 },
    LOGIN_RATE_LIMIT_WINDOW: { type: 'string', default: '1 minute' },
    USAGE_LIMIT_PER_MINUTE: { type: 'integer', minimum: 0, maximum: 1000000, default: 0 },
    BENCH_UNAUTHENTICATED_MCP: { type: 'boolean', default: false },
    AUTH_DISABLE_SIGNUP: { type: 'boolean', default: false },
    AUTH_AUTOCONFIRM: { type: 'boolean', default: true },
    AUTH_SITE_URL: { type: 'string' },
    AUTH_URI_ALLOW_LIST: { type: 'string', default: '' },
    AUTH_JWT_EXPIRY: { type: 'integer', minimum: 30, maximum: 604800, default: 3600 },
    AUTH_REFRESH_TOKEN_REUSE_INTERVAL: { type: 'integer', minimum: 0, maximum: 3600, default: 10 },
    AUTH_PASSWORD_MIN_LENGTH: { type: 'integer', minimum: 6, maximum: 72, default: 6 },
    AUTH_EXTERNAL_PROVIDERS: { type: 'string', default: '' },
    AUTH_OAUTH_SERVER_ENABLED: { type: 'boolean', default: true },
    AUTH_OAUTH_SERVER_ALLOW_DYNAMIC_REGISTRATION: { type: 'boolean', default: false },
    AUTH_OAUTH_SERVER_AUTHORIZATION_PATH: { type: 'string', pattern: '^/', default: '/auth/v1/local-consent' },
    AUTH_OAUTH_SERVER_AUTHORIZATION_TTL: { type: 'integer', minimum: 60, maximum: 3600, default: 600 },
    OAUTH_PROVIDERS: { type: 'string', default: '' },
    OAUTH_REGISTRATIONS_PER_HOUR: { type: 'integer', minimum: 0, maximum: 100000, default: 20 },
    OAUTH_CIMD_ALLOW_PRIVATE_HOSTS: { type: 'boolean', default: false },
    OAUTH_UPSTREAM: { type: 'string', enum: [...OAUTH_UPSTREAMS], default: 'password' },
    SUPABASE_OAUTH_CLIENT_ID: { type: 'string' },
    SUPABASE_OAUTH_CLIENT_SECRET: { type: 'string' },
    OIDC_ISSUER: { type: 'string' },
    OIDC_CLIENT_ID: { type: 'string' },
    OIDC_CLIENT_SECRET: { type: 'string' },
    OIDC_CREATE_USERS: { type: 'boolean', default: false },
    WORKOS_CLIENT_ID: { type: 'string' },
    WORKOS_API_KEY: { type: 'string' },
    OAUTH_TOKEN_KEY: { type: 'string' },
    OAUTH_INTROSPECTION_SECRET: { type: 'string' },
    OAUTH_ACCESS_TOKENS: { type: 'string', enum: [...OAUTH_ACCESS_TOKENS], default: 'bound' },
    OAUTH_ACCESS_TOKEN_LIFETIME: { type: 'integer', minimum: 60, maximum: 86400, default: 3600 },
  },
} as const

const ACCEPTS: Record<string, string> = {
  AUTH_MODE: `one of ${AUTH_MODES.join(', ')}`,
  TRANSPORT: `one of ${TRANSPORTS.join(', ')}`,
  PORT: 'an integer from 0 to 65535',
  LOG_LEVEL: 'one of fatal, error, warn, info, debug, trace, silent',
  TOKEN_VALIDATION: `one of ${TOKEN_VALIDATIONS.join(', ')}`,
  TOKEN_CACHE_TTL: 'an integer number of seconds from 0 to 3600',
  UPSTREAM_TIMEOUT_MS: 'an integer number of milliseconds from 100 to 120000',
  LOGIN_RATE_LIMIT_MAX: 'an integer from 1 to 100000',
  USAGE_LIMIT_PER_MINUTE: 'an integer from 0 (no limit) to 1000000',
  AUTH_JWT_EXPIRY: 'an integer number of seconds from 30 to 604800',
  AUTH_REFRESH_TOKEN_REUSE_INTERVAL: 'an integer number of seconds from 0 to 3600',
  AUTH_PASSWORD_MIN_LENGTH: 'an integer from 6 to 72',
  DATABASE_PREPARED_STATEMENTS: 'true or false',
  BENCH_UNAUTHENTICATED_MCP: 'true or false (benchmarks only, with a loopback HOST)',
  AUTH_DISABLE_SIGNUP: 'true or false',
  AUTH_AUTOCONFIRM: 'true or false',
  AUTH_OAUTH_SERVER_ENABLED: 'true or false',
  AUTH_OAUTH_SERVER_ALLOW_DYNAMIC_REGISTRATION: 'true or false',
  AUTH_OAUTH_SERVER_AUTHORIZATION_PATH: 'a path starting with /',
  AUTH_OAUTH_SERVER_AUTHORIZATION_TTL: 'an integer number of seconds from 60 to 3600',
  OAUTH_REGISTRATIONS_PER_HOUR: 'an integer from 0 (no limit) to 100000',
  OAUTH_CIMD_ALLOW_PRIVATE_HOSTS: 'true or false',
  OAUTH_UPSTREAM: `one of ${OAUTH_UPSTREAMS.join(', ')}`,
  OAUTH_ACCESS_TOKENS: `one of ${OAUTH_ACCESS_TOKENS.join(', ')}`,
  OIDC_CREATE_USERS: 'true or false',
  OAUTH_ACCESS_TOKEN_LIFETIME: 'an integer number of seconds from 60 to 86400',
}

/**
 * Merges `.env` (when present) under the process environment, then fills each new
 * name from its legacy alias, so an old deployment's variables keep working.
 */
export function collectEnv(env: NodeJS.ProcessEnv, envFile: string | undefined, usedAliases?: Set<string>): Record<string, string> {
  const merged: Record<string, string> = {}
  if (envFile && existsSync(envFile)) Object.assign(merged, parseDotenv(readFileSync(envFile)))
  for (const [key, value] of Object.entries(env)) if (value !== undefined) merged[key] = value
  for (const [name, legacy] of Object.entries(LEGACY_ALIASES)) {
    if ((merged[name] === undefined || merged[name] === '') && merged[legacy]) {
      merged[name] = merged[legacy]
      usedAliases?.add(name)
    }
  }
  // An empty assignment in .env means "unset", as the examples there show.
  for (const key of Object.keys(merged)) if (merged[key] === '') delete merged[key]
  return merged
}

function checkUrl(problems: string[], name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch {
    problems.push(`${name}: "${value}" is not a URL; it accepts an absolute http(s) URL such as https://example.com`)
    return undefined
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`${name}: "${value}" must use http or https`)
    return undefined
  }
  return withoutTrailingSlashes(value)
}

function checkDatabaseUrl(problems: string[], value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  try {
    const url = new URL(value)
    if (url.protocol === 'postgres:' || url.protocol === 'postgresql:') return value
  } catch {
    /* reported below */
  }
  problems.push('DATABASE_URL: accepts a postgres:// or postgresql:// connection URL, or unset for the embedded database')
  return undefined
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** `1 minute`, `30 s`, `2 hours`, `500 ms`, or a bare number of milliseconds. */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d+)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?)?$/i.exec(value.trim())
  if (!match) return undefined
  const unit = (match[2] ?? 'ms').toLowerCase()
  const factor = unit === 'ms' || unit.startsWith('milli') ? 1 : DURATION_UNITS_MS[unit[0]!]!
  const ms = Number(match[1]) * factor
  return ms > 0 ? ms : undefined
}

const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

function isAddressOrRange(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true
  const [address, prefix, extra] = entry.split('/')
  const family = isIP(address ?? '')
  if (family === 0 || extra !== undefined) return false
  if (prefix === undefined) return true
  const bits = Number(prefix)
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128)
}

/**
 * TRUST_PROXY: `false`, the number of proxies in front of the server, or the proxies'
 * addresses and CIDR ranges. `true` (trust every hop) is refused: with it the client's own
 * `X-Forwarded-For` value becomes its address, and every per-address limit is void.
 */
function parseTrustProxy(problems: string[], value: string): false | number | string[] {
  const text = value.trim().toLowerCase()
  if (text === 'false' || text === '0') return false
  if (text === 'true') {
    problems.push('TRUST_PROXY: true would trust every X-Forwarded-For hop, so a client could pick its own address; set the number of proxies in front of the server (for example 1) or their addresses or CIDR ranges')
    return false
  }
  if (/^\d{1,2}$/.test(text)) return Number(text)
  const entries = listOf(text)
  const bad = entries.filter((entry) => !isAddressOrRange(entry))
  if (entries.length === 0 || bad.length > 0) {
    problems.push(`TRUST_PROXY: accepts false, a number of proxy hops (1 to 99), or a comma-separated list of proxy addresses, CIDR ranges, loopback, linklocal or uniquelocal (got "${value}")`)
    return false
  }
  return entries
}

function listOf(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)
}

/** The URL a browser on this machine uses for a bind address. */
export function urlHostFor(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost'
  return isIP(host) === 6 ? `[${host}]` : host
}

/** An issuer is compared exactly (a trailing slash included), so it is kept as given; http only on this machine. */
function checkIssuer(problems: string[], value: string): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    problems.push(`OIDC_ISSUER: "${value}" is not a URL; it accepts the provider's issuer, such as https://example.authkit.app`)
    return undefined
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname))) return value
  problems.push(`OIDC_ISSUER: "${value}" must use https (http only on a loopback host)`)
  return undefined
}

/**
 * OAUTH_UPSTREAM=oidc: the provider and this server's confidential client there. WorkOS's
 * names stand in for the generic ones (its API key is the client secret), with AuthKit's
 * issuer for that client unless OIDC_ISSUER names another (an AuthKit domain).
 */
function oidcClient(problems: string[], raw: Record<string, any>): NonNullable<Config['oauth']['oidc']> | undefined {
  const clientId: string | undefined = raw.OIDC_CLIENT_ID ?? raw.WORKOS_CLIENT_ID
  const clientSecret: string | undefined = raw.OIDC_CLIENT_SECRET ?? raw.WORKOS_API_KEY
  const issuer = raw.OIDC_ISSUER === undefined ? (raw.WORKOS_CLIENT_ID && !raw.OIDC_CLIENT_ID ? workosIssuer(raw.WORKOS_CLIENT_ID) : undefined) : checkIssuer(problems, raw.OIDC_ISSUER)
  if (!issuer && raw.OIDC_ISSUER === undefined) problems.push('OIDC_ISSUER: required with OAUTH_UPSTREAM=oidc; the issuer URL of the OpenID provider (its /.well-known/openid-configuration is read at start)')
  if (!clientId) problems.push('OIDC_CLIENT_ID: required with OAUTH_UPSTREAM=oidc; the client registered for this server at the provider (or WORKOS_CLIENT_ID)')
  if (!clientSecret) problems.push('OIDC_CLIENT_SECRET: required with OAUTH_UPSTREAM=oidc; the secret of the client registered for this server at the provider (or WORKOS_API_KEY)')
  if (raw.OAUTH_ACCESS_TOKENS === 'supabase') {
    problems.push('OAUTH_ACCESS_TOKENS: supabase hands out a Supabase session token, and OAUTH_UPSTREAM=oidc has none (users sign in at the provider); use bound')
  }
  if (!issuer || !clientId || !clientSecret) return undefined
  return { issuer, clientId, clientSecret, createUsers: raw.OIDC_CREATE_USERS === true }
}

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  options: { envFile?: string } = { envFile: resolve('.env') },
): Config {
  const usedAliases = new Set<string>()
  const data = collectEnv(env, options.envFile, usedAliases)
  // A problem names the variable the operator actually set, legacy name included.
  const label = (name: string) => (usedAliases.has(name) ? `${name} (set as ${LEGACY_ALIASES[name]})` : name)
  const problems: string[] = []
  let raw: Record<string, any> = { ...data }
  try {
    raw = envSchema({ schema, data, dotenv: false })
  } catch (error: any) {
    for (const item of error?.errors ?? []) {
      const name = String(item.instancePath ?? '').replace(/^\//, '') || item.params?.missingProperty || 'environment'
      const given = data[name] === undefined ? '' : ` (got "${data[name]}")`
      problems.push(`${label(name)}: accepts ${ACCEPTS[name] ?? item.message}${given}`)
    }
    if (problems.length === 0) problems.push(String(error?.message ?? error))
  }

  const port: number = raw.PORT
  const supabaseUrl = checkUrl(problems, label('SUPABASE_URL'), raw.SUPABASE_URL)
  const baseUrl = checkUrl(problems, label('BASE_URL'), raw.BASE_URL) ?? `http://${urlHostFor(raw.HOST)}:${port}`
  const siteUrl = checkUrl(problems, 'AUTH_SITE_URL', raw.AUTH_SITE_URL) ?? baseUrl
  const jwksSetting: string | undefined = raw.JWKS_URL
  const jwksUrl = jwksSetting === 'none' ? undefined : checkUrl(problems, 'JWKS_URL', jwksSetting)
  const databaseUrl = checkDatabaseUrl(problems, raw.DATABASE_URL)
  const redisUrl: string | undefined = raw.REDIS_URL
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    problems.push('REDIS_URL: accepts a redis:// or rediss:// URL, or unset to keep rate limits in memory')
  }
  const effectiveSupabaseUrl = supabaseUrl ?? baseUrl
  if (raw.AUTH_MODE === 'jwt' && supabaseUrl !== undefined && jwksSetting === 'none' && !raw.SUPABASE_JWT_SECRET) {
    problems.push('AUTH_MODE: jwt needs a key source; set SUPABASE_JWT_SECRET (HS256 projects) or leave JWKS_URL unset to use the project JWKS')
  }
  if (supabaseUrl !== undefined && !raw.SUPABASE_ANON_KEY) {
    problems.push('SUPABASE_ANON_KEY: required with SUPABASE_URL; accepts the project anon or publishable key')
  }
  if (raw.SUPABASE_SERVICE_ROLE_KEY !== undefined && String(raw.SUPABASE_SERVICE_ROLE_KEY).length < 32) {
    problems.push('SUPABASE_SERVICE_ROLE_KEY: accepts a secret of at least 32 characters (it opens the admin API of the embedded auth)')
  }
  if (raw.SUPABASE_JWT_SECRET !== undefined && String(raw.SUPABASE_JWT_SECRET).length < 32) {
    problems.push('SUPABASE_JWT_SECRET: accepts the project JWT secret, at least 32 characters')
  }
  const loginWindowMs = parseDuration(String(raw.LOGIN_RATE_LIMIT_WINDOW ?? '1 minute'))
  if (loginWindowMs === undefined) {
    problems.push(`LOGIN_RATE_LIMIT_WINDOW: accepts a duration such as "1 minute", "30 s" or "2 hours" (got "${raw.LOGIN_RATE_LIMIT_WINDOW}")`)
  }
  const trustProxy = parseTrustProxy(problems, String(raw.TRUST_PROXY ?? 'false'))
  const externalProviders = listOf(raw.AUTH_EXTERNAL_PROVIDERS).map((p) => p.toLowerCase())
  if (externalProviders.length > 0 && !isLoopback(raw.HOST)) {
    problems.push(`AUTH_EXTERNAL_PROVIDERS: the local sign-in page that stands in for these providers signs anyone in as any email, without a password, so it is refused unless HOST is a loopback address (got "${raw.HOST}"); leave it unset in production`)
  }
  if (raw.BENCH_UNAUTHENTICATED_MCP === true && !isLoopback(raw.HOST)) {
    problems.push(`BENCH_UNAUTHENTICATED_MCP: serves the tools without authentication, so it is refused unless HOST is a loopback address (got "${raw.HOST}"); never set it in production`)
  }
  if (raw.AUTH_MODE === 'oauth' && (raw.OAUTH_UPSTREAM === 'supabase-oauth' || raw.OAUTH_UPSTREAM === 'delegate') && supabaseUrl === undefined && raw.AUTH_OAUTH_SERVER_ENABLED === false) {
    problems.push(`OAUTH_UPSTREAM: ${raw.OAUTH_UPSTREAM} sends users to the OAuth server of the embedded auth; set AUTH_OAUTH_SERVER_ENABLED=true or choose password`)
  }
  if (raw.AUTH_MODE === 'oauth' && raw.OAUTH_UPSTREAM === 'supabase-oauth') {
    for (const name of ['SUPABASE_OAUTH_CLIENT_ID', 'SUPABASE_OAUTH_CLIENT_SECRET']) {
      if (!raw[name]) problems.push(`${name}: required with OAUTH_UPSTREAM=supabase-oauth; the client registered for this server in Supabase's OAuth server`)
    }
  }
  const oidc = raw.AUTH_MODE === 'oauth' && raw.OAUTH_UPSTREAM === 'oidc' ? oidcClient(problems, raw) : undefined
  if (oidc && supabaseUrl !== undefined && !raw.SUPABASE_SERVICE_ROLE_KEY) {
    problems.push("SUPABASE_SERVICE_ROLE_KEY: required with OAUTH_UPSTREAM=oidc and SUPABASE_URL; users signing in at the provider are found and created through Supabase Auth's admin API")
  }
  if (raw.OAUTH_TOKEN_KEY !== undefined && String(raw.OAUTH_TOKEN_KEY).length < 32) {
    problems.push('OAUTH_TOKEN_KEY: accepts a random secret of at least 32 characters (for example `openssl rand -base64 32`)')
  }
  // Sent as a bearer token, so it has to be one (RFC 6750 §2.1's token68 characters).
  if (raw.OAUTH_INTROSPECTION_SECRET !== undefined && !/^[A-Za-z0-9\-._~+/]{32,}=*$/.test(String(raw.OAUTH_INTROSPECTION_SECRET))) {
    problems.push('OAUTH_INTROSPECTION_SECRET: accepts a random secret of at least 32 letters, digits or -._~+/ (for example `openssl rand -base64 32`), or unset to turn /introspect off')
  }
  if (problems.length) throw new ConfigError([...new Set(problems)])

  return {
    authMode: raw.AUTH_MODE,
    transport: raw.TRANSPORT,
    mcpAuthToken: raw.MCP_AUTH_TOKEN,
    host: raw.HOST,
    port,
    baseUrl: baseUrl!,
    supabaseUrl,
    supabaseAnonKey: raw.SUPABASE_ANON_KEY,
    supabaseJwtSecret: raw.SUPABASE_JWT_SECRET,
    supabaseServiceRoleKey: raw.SUPABASE_SERVICE_ROLE_KEY,
    databaseUrl,
    databasePreparedStatements: raw.DATABASE_PREPARED_STATEMENTS,
    dataDir: resolve(raw.DATA_DIR),
    logLevel: raw.LOG_LEVEL,
    corsOrigins: listOf(raw.CORS_ORIGINS),
    redisUrl,
    trustProxy: trustProxy!,
    jwksUrl: jwksSetting === 'none' ? undefined : (jwksUrl ?? `${effectiveSupabaseUrl}/auth/v1/.well-known/jwks.json`),
    jwtIssuer: raw.JWT_ISSUER ?? `${effectiveSupabaseUrl}/auth/v1`,
    jwtAudience: raw.JWT_AUDIENCE,
    tokenCacheTtlSeconds: raw.TOKEN_CACHE_TTL,
    tokenValidation: raw.TOKEN_VALIDATION,
    upstreamTimeoutMs: raw.UPSTREAM_TIMEOUT_MS,
    loginRateLimit: { max: raw.LOGIN_RATE_LIMIT_MAX, windowMs: loginWindowMs! },
    usageLimitPerMinute: raw.USAGE_LIMIT_PER_MINUTE || null,
    benchUnauthenticatedMcp: raw.BENCH_UNAUTHENTICATED_MCP === true,
    embeddedAuth: {
      enabled: supabaseUrl === undefined,
      disableSignup: raw.AUTH_DISABLE_SIGNUP,
      autoconfirm: raw.AUTH_AUTOCONFIRM,
      siteUrl,
      uriAllowList: listOf(raw.AUTH_URI_ALLOW_LIST),
      jwtExpirySeconds: raw.AUTH_JWT_EXPIRY,
      refreshTokenReuseIntervalSeconds: raw.AUTH_REFRESH_TOKEN_REUSE_INTERVAL,
      minPasswordLength: raw.AUTH_PASSWORD_MIN_LENGTH,
      externalProviders,
      oauthServer: {
        enabled: raw.AUTH_OAUTH_SERVER_ENABLED,
        allowDynamicRegistration: raw.AUTH_OAUTH_SERVER_ALLOW_DYNAMIC_REGISTRATION,
        authorizationPath: raw.AUTH_OAUTH_SERVER_AUTHORIZATION_PATH,
        authorizationTtlSeconds: raw.AUTH_OAUTH_SERVER_AUTHORIZATION_TTL,
      },
    },
    oauth: {
      providers: listOf(raw.OAUTH_PROVIDERS).map((p) => p.toLowerCase()),
      registrationsPerHour: raw.OAUTH_REGISTRATIONS_PER_HOUR,
      metadataDocumentsAllowPrivate: raw.OAUTH_CIMD_ALLOW_PRIVATE_HOSTS,
      upstream: raw.OAUTH_UPSTREAM,
      supabaseClient: raw.SUPABASE_OAUTH_CLIENT_ID && raw.SUPABASE_OAUTH_CLIENT_SECRET
        ? { id: raw.SUPABASE_OAUTH_CLIENT_ID, secret: raw.SUPABASE_OAUTH_CLIENT_SECRET }
        : undefined,
      oidc,
      tokenKey: raw.OAUTH_TOKEN_KEY,
      introspectionSecret: raw.OAUTH_INTROSPECTION_SECRET,
      accessTokens: raw.OAUTH_ACCESS_TOKENS,
      accessTokenLifetimeSeconds: raw.OAUTH_ACCESS_TOKEN_LIFETIME,
    },
    effectiveSupabaseUrl,
    effectiveAnonKey: raw.SUPABASE_ANON_KEY ?? EMBEDDED_ANON_KEY,
  }
}
