import t from 'tap'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createClient } from '@supabase/supabase-js'
import { freePort } from '../scripts/lib/ports.ts'
import { loadConfig } from '../src/config.ts'
import { describeSelf, formatHolder } from '../src/db/folder-lock.ts'
import { migrate } from '../src/db/migrate.ts'
import { startServer } from '../src/server.ts'
import { seededDataDir } from './helpers/backends.ts'
import { SERVER_CLIENT } from './helpers/supabase.ts'
import { runCli } from './helpers/user-cli.ts'

/** A data folder, and a folder of its own for the command to run in. */
async function folders(t: { teardown(fn: () => unknown): void }) {
  const [dataDir, cwd] = [await seededDataDir(), await seededDataDir()]
  t.teardown(() => [dataDir, cwd].forEach((dir) => rmSync(dir, { recursive: true, force: true })))
  return { dataDir, cwd }
}

t.test('npm run user while the server holds the embedded database goes through its admin API', async (t) => {
  const { dataDir, cwd } = await folders(t)
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

  // finding 17.4: the server started with another PORT than the command's (PORT=9000 npm start,
  // then npm run user): its key went to whatever answered at the command's own BASE_URL.
  const otherPort = await runCli(cwd, { ...env, PORT: String(await freePort()) }, 'list')
  t.equal(otherPort.code, 0, 'a command whose BASE_URL names another port reaches the server that holds the database')
  t.match(otherPort.stdout, /^no users yet/, 'and lists its users (none left by now)')
})

t.test('npm run user with the database held by a process that serves no HTTP: a clear error', async (t) => {
  const { dataDir, cwd } = await folders(t)
  // This test's own process stands for the holder: alive, and its lock records no address.
  writeFileSync(join(dataDir, 'pgdata.lock'), formatHolder(describeSelf()))
  const held = await runCli(cwd, { DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(await freePort()), LOG_LEVEL: 'silent' }, 'list')
  t.equal(held.code, 1, 'with no server at BASE_URL, the held database is an error')
  t.match(held.stderr, new RegExp(`in use by process ${process.pid}.*admin API at .* could not be used either`))
})
