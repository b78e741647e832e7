import { ConfigError, loadConfig, type Config } from './config.ts'
import { DatabaseUnavailableError, type Db } from './db/db.ts'
import { openDatabase } from './db/open.ts'
import { DatabaseInUseError } from './db/pglite.ts'
import { loadSigningKeys } from './embedded-auth/keys.ts'
import { bridgeStdioToServer } from './stdio-bridge.ts'
import { startServer } from './server.ts'
import { pino } from 'pino'
import { createAuthMode } from './auth/modes/index.ts'
import { REDACTED_PATHS } from './log.ts'
import { runStdio, stderrLog } from './mcp/stdio.ts'
import { createSupabaseGateway } from './supabase/gateway.ts'
import { isLoopback } from './http/loopback.ts'

/**
 * The service-role key as the start banner shows it: in full only where the server is a
 * development one (loopback HOST), as the Supabase CLI prints its own; elsewhere logs may
 * travel, so a derived key is not written out and an operator who needs one sets it.
 */
function serviceKeyLine(config: Config, key: string | undefined): string | undefined {
  if (!key) return undefined
  if (config.supabaseServiceRoleKey) return '  service key: SUPABASE_SERVICE_ROLE_KEY (for /auth/v1/admin)'
  if (isLoopback(config.host)) return `  service key: ${key}`
  return '  service key: derived, not shown (HOST is not loopback); set SUPABASE_SERVICE_ROLE_KEY to use /auth/v1/admin'
}

function banner(config: Config, url: string, dbKind: string, serviceKey?: string): string {
  const auth = config.embeddedAuth.enabled
    ? `embedded (a local stand-in for Supabase Auth, for development and single-node use) at ${config.baseUrl}/auth/v1`
    : `Supabase project at ${config.supabaseUrl}`
  const database = dbKind === 'pglite' ? `embedded PGlite in ${config.dataDir}/pgdata` : 'PostgreSQL from DATABASE_URL'
  const lines = [
    `atoms-mcp listening on ${url} (public URL ${config.baseUrl})`,
    `  auth mode : ${config.authMode}`,
    `  auth      : ${auth}`,
    `  database  : ${database}`,
  ]
  if (config.embeddedAuth.enabled) {
    lines.push(`  anon key  : ${config.effectiveAnonKey}`)
    const serviceLine = serviceKeyLine(config, serviceKey)
    if (serviceLine) lines.push(serviceLine)
    lines.push('  add a user: npm run user -- add you@example.com')
  }
  if (config.benchUnauthenticatedMcp) lines.push('  WARNING   : BENCH_UNAUTHENTICATED_MCP is set: /bench/mcp serves the tools without authentication (benchmarks only)')
  return lines.join('\n')
}

/** One line a newcomer can act on; the password in DATABASE_URL is never repeated. */
function describeStartFailure(error: any, config: Config): string {
  if (error?.code === 'EADDRINUSE') return `port ${config.port} is already in use (set PORT)`
  if (error instanceof DatabaseUnavailableError && config.databaseUrl) {
    const { host, pathname } = new URL(config.databaseUrl)
    return `cannot reach the PostgreSQL server of DATABASE_URL (${host}${pathname}): ${error.cause instanceof Error ? error.cause.message : 'no answer'}`
  }
  return error?.message ?? String(error)
}

/**
 * `TRANSPORT=stdio`: the process serves its client from the database itself, checking tokens
 * against the embedded auth's keys where it keeps them (no HTTP server needed); when a server
 * already has the embedded database open, it relays to that server's /mcp instead, so both
 * always see the same data.
 */
async function serveOnStdio(config: Config) {
  const log = pino({ level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, pino.destination(2))
  let db: Db
  try {
    db = await openDatabase(config, (line) => stderrLog('info', line))
  } catch (error) {
    if (!(error instanceof DatabaseInUseError)) throw error
    // The oauth mode's /mcp takes only its own OAuth flow's access tokens, not a session token.
    const hint = config.authMode === 'oauth' && config.oauth.upstream !== 'delegate' && config.oauth.accessTokens === 'bound' ? 'an oauth-mode server takes only access tokens of its own OAuth flow at /mcp: see docs/mcp.md, stdio' : undefined
    return bridgeStdioToServer(new URL(`${error.serverUrl ?? config.baseUrl}/mcp`), config.mcpAuthToken, stderrLog, hint)
  }
  try {
    const localJwks = config.embeddedAuth.enabled ? [(await loadSigningKeys(config.dataDir, config.databaseUrl ? db : undefined)).publicJwk] : undefined
    const authMode = createAuthMode({ config, gateway: createSupabaseGateway(config), log, localJwks })
    await runStdio(config, { authMode, db })
  } finally {
    await db.close()
  }
}

async function main() {
  let config: Config
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`atoms-mcp cannot start, the configuration is invalid:\n${error.problems.map((p) => `  ${p}`).join('\n')}\n`)
      process.exit(1)
    }
    throw error
  }
  if (config.transport === 'stdio') {
    await serveOnStdio(config).catch((error: any) => {
      stderrLog('error', `atoms-mcp cannot serve stdio: ${error?.message ?? error}`)
      process.exit(1)
    })
    return
  }
  const notice = (line: string) => process.stderr.write(`atoms-mcp: ${line}\n`)
  const server = await startServer(config, {}, { notice }).catch((error: any) => {
    process.stderr.write(`atoms-mcp cannot start: ${describeStartFailure(error, config)}\n`)
    process.exit(1)
  })
  process.stderr.write(`${banner(config, server.url, server.db.kind, server.app.embeddedAuthServiceRoleKey)}\n`)
  server.app.log.info({ url: server.url, authMode: config.authMode, database: server.db.kind, embeddedAuth: config.embeddedAuth.enabled }, 'atoms-mcp listening')

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    server.app.log.info({ signal }, 'shutting down: finishing in-flight requests')
    const force = setTimeout(() => {
      server.app.log.error('shutdown took longer than 10 s; exiting')
      process.exit(1)
    }, 10_000)
    force.unref()
    server.close().then(
      () => process.exit(0),
      (error) => {
        server.app.log.error({ err: error }, 'error while shutting down')
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

await main()
