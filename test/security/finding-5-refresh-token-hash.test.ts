import { createHash, createHmac, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { openWith, sha256 } from '../../src/crypto.ts'
import { postgresOAuthStore } from '../../src/oauth/store/postgres.ts'
import { loadTokenKey, TOKEN_KEY_FILE, TokenKeyMismatchError } from '../../src/oauth/token-key.ts'
import { migrate } from '../../src/db/migrate.ts'
import { logCollector } from '../helpers/auth.ts'
import { backends, tempDir, type Backend } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { connectedClient, refresh, schemaText } from './helpers.ts'

// Finding 5: refresh_tokens.token_hash was a plain SHA-256 of Supabase's short refresh token,
// and the answer to a rotation was sealed under that token alone: a reader of the database
// could test guesses offline. Here the test holds the real tokens, the best guess there is.

t.test('finding 5: the database alone cannot check a guessed refresh token nor open a sealed successor', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth' })
  t.teardown(() => server.dispose())
  const { clientId, tokens } = await connectedClient(server)
  const next = await refresh(server, clientId, tokens.refresh_token)
  const stored = await schemaText(server, 'atoms_oauth')

  // Every unkeyed digest a reader could compute from a guess, and every key the database holds.
  const { rows: secrets } = await server.db.query<{ value: string }>('select value from atoms_oauth.secrets')
  const dbKeys = secrets.map((row) => Buffer.from(row.value, 'base64url'))
  for (const guess of [tokens.refresh_token, next.refresh_token]) {
    const digests = [guess, sha256(guess), createHash('sha256').update(guess).digest('hex')]
    for (const key of dbKeys) for (const prefix of ['', 'refresh-token:']) digests.push(createHmac('sha256', key).update(prefix + guess).digest('base64url'))
    t.same(digests.filter((digest) => stored.includes(digest)), [], 'nothing stored can be matched against the token')
  }
  const { rows } = await server.db.query<{ sealed_successor: string }>('select sealed_successor from atoms_oauth.refresh_tokens where sealed_successor is not null')
  t.equal(rows.length, 1, 'the rotated token keeps its answer for the replay window')
  t.equal(openWith(tokens.refresh_token, 'refresh successor', rows[0]!.sealed_successor), undefined, 'the old token alone does not open it')

  // The key that does it is in the data folder, not in the database.
  const key = readFileSync(join(server.config.dataDir, TOKEN_KEY_FILE), 'utf8').trim()
  t.notOk(stored.includes(key), 'the key is not stored in the database')
  const store = postgresOAuthStore(server.db, Buffer.from(key, 'base64url'))
  t.equal((await store.refreshTokens.find(tokens.refresh_token))?.active, false, 'with the key the rotated token is found')
  t.equal((await store.refreshTokens.find(next.refresh_token))?.active, true)
  t.equal((await postgresOAuthStore(server.db, randomBytes(32)).refreshTokens.find(next.refresh_token)), undefined, 'with another key nothing is')
})

t.test('finding 5: an instance with another token key refuses to start on the same database', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth' })
  t.teardown(() => server.dispose())
  const same = { dataDir: server.config.dataDir, oauth: { tokenKey: undefined } }
  t.ok(await loadTokenKey(same, server.db), 'the same key file starts')
  await t.rejects(loadTokenKey({ dataDir: tempDir(), oauth: { tokenKey: undefined } }, server.db), TokenKeyMismatchError, 'a fresh key file does not')
  await t.rejects(loadTokenKey({ dataDir: tempDir(), oauth: { tokenKey: 'x'.repeat(40) } }, server.db), TokenKeyMismatchError, 'nor another OAUTH_TOKEN_KEY')
})

t.test('finding 5: rows stored under the former unkeyed hash are dropped at start, with a log line', async (t) => {
  // A database as an earlier version left it: one refresh token found by its plain SHA-256.
  const plain = backends()[0]!
  const legacy: Backend = {
    name: plain.name,
    async create() {
      const created = await plain.create()
      await migrate(created.db)
      await created.db.query(
        `insert into atoms_oauth.refresh_tokens (token_hash, client_id, user_id, scope, resource, keyed) values ($1, 'c', 'u', 'openid', 'r', false)`,
        [sha256('an old supabase token')],
      )
      return created
    },
  }
  const log = logCollector()
  const server = await startTestServer(legacy, { AUTH_MODE: 'oauth', LOG_LEVEL: 'warn' }, { logStream: log.stream })
  t.teardown(() => server.dispose())
  t.equal((await server.db.query('select 1 from atoms_oauth.refresh_tokens')).rows.length, 0)
  t.match(log.text(), /"dropped":1,.*refresh tokens stored under the former unkeyed hash were ended/)
})
