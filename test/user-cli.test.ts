import t from 'tap'
import { rmSync } from 'node:fs'
import { createClient } from '@supabase/supabase-js'
import { freePort } from '../scripts/lib/ports.ts'
import { loadConfig } from '../src/config.ts'
import { startServer } from '../src/server.ts'
import { backends, seededDataDir } from './helpers/backends.ts'
import { SERVER_CLIENT } from './helpers/supabase.ts'
import { runCli } from './helpers/user-cli.ts'

const clientOptions = { auth: SERVER_CLIENT }

t.test('usage: --help, and wrong usage exits 2', async (t) => {
  const cwd = await seededDataDir()
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }))
  const env = { DATA_DIR: cwd }
  const help = await runCli(cwd, env, '--help')
  t.equal(help.code, 0)
  t.match(help.stdout, /npm run user -- add EMAIL \[--password PASSWORD\]/)
  t.match(help.stdout, /list/)
  t.match(help.stdout, /remove EMAIL/)
  for (const args of [[], ['frob'], ['add'], ['remove'], ['list', 'extra'], ['add', 'a@example.com', 'b@example.com'], ['list', '--password', 'x'], ['add', 'a@example.com', '--colour']]) {
    const run = await runCli(cwd, env, ...args)
    t.equal(run.code, 2, `"${args.join(' ')}" is wrong usage: exit 2`)
    t.match(run.stderr, /^error: .+\n/, 'it says what is wrong first')
    t.match(run.stderr, /Usage:/, 'and shows the usage')
  }
})

t.test('it refuses when SUPABASE_URL is set: users live in the real project', async (t) => {
  const cwd = await seededDataDir()
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }))
  const run = await runCli(cwd, { DATA_DIR: cwd, SUPABASE_URL: 'https://abc.supabase.co', SUPABASE_ANON_KEY: 'anon' }, 'add', 'a@example.com')
  t.equal(run.code, 1)
  t.match(run.stderr, /SUPABASE_URL is set, so users live in the Supabase project at https:\/\/abc\.supabase\.co/)
  const legacy = await runCli(cwd, { DATA_DIR: cwd, NEXT_PUBLIC_SUPABASE_URL: 'https://abc.supabase.co', NEXT_PUBLIC_SUPABASE_ANON_KEY: 'anon' }, 'list')
  t.equal(legacy.code, 1, 'also under the legacy name')
  const bad = await runCli(cwd, { DATA_DIR: cwd, PORT: 'eighty' }, 'list')
  t.equal(bad.code, 1, 'a bad configuration is refused')
  t.match(bad.stderr, /PORT: /)
})

for (const backend of backends()) {
  t.test(`add, list, remove, then sign in with supabase-js on ${backend.name}`, async (t) => {
    const store = await backend.create()
    t.teardown(() => store.dispose())
    await store.db.close()
    const cwd = await seededDataDir()
    t.teardown(() => rmSync(cwd, { recursive: true, force: true }))
    const env: Record<string, string> = { DATA_DIR: store.dataDir, ...(store.url ? { DATABASE_URL: store.url } : {}) }

    const chosen = await runCli(cwd, env, 'add', 'Alice@Example.com', '--password', 'correct horse')
    t.equal(chosen.code, 0, 'add with a password')
    t.match(chosen.stdout, /^added alice@example\.com \(id [0-9a-f-]{36}\)\n$/, 'says what it added, and prints no password')

    const generated = await runCli(cwd, env, 'add', 'bob@example.com')
    t.equal(generated.code, 0, 'add without a password')
    const password = /^password: (\S+)$/m.exec(generated.stdout)?.[1]
    t.ok(password && password.length >= 20, 'a strong password is generated and printed')

    const duplicate = await runCli(cwd, env, 'add', 'alice@example.com', '--password', 'another one')
    t.equal(duplicate.code, 1, 'an existing email is refused')
    t.match(duplicate.stderr, /already exists/)
    const weak = await runCli(cwd, env, 'add', 'carol@example.com', '--password', 'abc')
    t.equal(weak.code, 1, 'a weak password is refused')
    t.match(weak.stderr, /at least 6 characters/)
    const badEmail = await runCli(cwd, env, 'add', 'not-an-email')
    t.equal(badEmail.code, 1, 'a bad email is refused')

    const listed = await runCli(cwd, env, 'list')
    t.equal(listed.code, 0)
    const lines = listed.stdout.trim().split('\n')
    t.match(lines[0], /^EMAIL\s+ID/, 'a header')
    t.equal(lines.length, 3, 'two users')
    t.match(listed.stdout, /alice@example\.com/)
    t.match(listed.stdout, /bob@example\.com/)
    t.notMatch(listed.stdout, /carol/)

    const removed = await runCli(cwd, env, 'remove', 'alice@example.com')
    t.equal(removed.code, 0)
    const again = await runCli(cwd, env, 'remove', 'alice@example.com')
    t.equal(again.code, 1, 'removing a missing user fails')
    t.match(again.stderr, /no user with the email alice@example\.com/)

    const port = await freePort()
    const config = loadConfig({ HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'silent', ...env }, {})
    const server = await startServer(config)
    t.teardown(() => server.close())
    const supabase = createClient(config.baseUrl, config.effectiveAnonKey, clientOptions)
    const bob = await supabase.auth.signInWithPassword({ email: 'bob@example.com', password: password! })
    t.equal(bob.error, null, 'the generated password signs in')
    t.ok(bob.data.user?.email_confirmed_at, 'the user is confirmed')
    const alice = await supabase.auth.signInWithPassword({ email: 'alice@example.com', password: 'correct horse' })
    t.equal(alice.error?.code, 'invalid_credentials', 'the removed user cannot')

    if (backend.name === 'pglite') {
      // The command's env names no PORT: it finds the server where the lock says it answers.
      const busy = await runCli(cwd, env, 'list')
      t.equal(busy.code, 0, 'while the server has the embedded database open, the command goes through it')
      t.match(busy.stdout, /bob@example\.com/)
    } else {
      const shared = await runCli(cwd, env, 'add', 'dave@example.com', '--password', 'correct horse')
      t.equal(shared.code, 0, 'PostgreSQL is shared with a running server')
      const dave = await supabase.auth.signInWithPassword({ email: 'dave@example.com', password: 'correct horse' })
      t.equal(dave.error, null, 'and the server sees the new user at once')
    }
  })
}
