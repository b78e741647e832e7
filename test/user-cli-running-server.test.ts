import t from 'tap'
import { rmSync } from 'node:fs'
import { createClient } from '@supabase/supabase-js'
import { freePort } from '../scripts/lib/ports.ts'
import { loadConfig } from '../src/config.ts'
import { migrate } from '../src/db/migrate.ts'
import { startServer } from '../src/server.ts'
import { seededDataDir } from './helpers/backends.ts'
import { SERVER_CLIENT } from './helpers/supabase.ts'
import { runCli } from './helpers/user-cli.ts'

t.test('npm run user while the server holds the embedded database goes through its admin API', async (t) => {
  const dataDir = await seededDataDir()
  const cwd = await seededDataDir()
  t.teardown(() => {
    rmSync(dataDir, { recursive: true, force: true })
    rmSync(cwd, { recursive: true, force: true })
  })
  const port = await freePort()
  const env = { DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'silent' }
  const config = loadConfig(env, {})
  const server = await startServer(config)
  t.teardown(() => server.close())
  await migrate(server.db)

  const added = await runCli(cwd, env, 'add', 'Erin@Example.com', '--password', 'correct horse')
  t.equal(added.code, 0, 'a user is added while the server runs')
  t.match(added.stdout, /^added erin@example\.com \(id [0-9a-f-]{36}\)\n$/)
  const supabase = createClient(config.baseUrl, config.effectiveAnonKey, { auth: SERVER_CLIENT })
  t.equal((await supabase.auth.signInWithPassword({ email: 'erin@example.com', password: 'correct horse' })).error, null, 'and signs in at once')

  const twice = await runCli(cwd, env, 'add', 'erin@example.com', '--password', 'correct horse')
  t.equal(twice.code, 1)
  t.match(twice.stderr, /a user with the email erin@example\.com already exists/)

  const listed = await runCli(cwd, env, 'list')
  t.equal(listed.code, 0)
  t.match(listed.stdout, /^EMAIL\s+ID[\s\S]*erin@example\.com/)

  t.equal((await runCli(cwd, env, 'remove', 'erin@example.com')).code, 0, 'and removed')
  t.equal((await supabase.auth.signInWithPassword({ email: 'erin@example.com', password: 'correct horse' })).error?.code, 'invalid_credentials')

  const wrongPort = await runCli(cwd, { ...env, PORT: String(await freePort()) }, 'list')
  t.equal(wrongPort.code, 1, 'with no server at BASE_URL, the held database is an error')
  t.match(wrongPort.stderr, /in use by process \d+.*admin API at .* could not be used either/)
})
