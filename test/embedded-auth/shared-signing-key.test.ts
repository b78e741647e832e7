import t from 'tap'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { migrate } from '../../src/db/migrate.ts'
import { SigningKeyFileError, loadSigningKeys } from '../../src/embedded-auth/keys.ts'
import { backends, tempDir as makeTempDir } from '../helpers/backends.ts'

const made: string[] = []
const tempDir = () => {
  const dir = makeTempDir()
  made.push(dir)
  return dir
}
t.teardown(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

for (const backend of backends()) {
  t.test(`instances sharing a database share its signing key on ${backend.name}`, async (t) => {
    const store = await backend.create()
    t.teardown(() => store.dispose())
    await migrate(store.db)

    const dirs = Array.from({ length: 4 }, () => tempDir())
    const keys = await Promise.all(dirs.map((dir) => loadSigningKeys(dir, store.db)))
    t.equal(new Set(keys.map((k) => k.kid)).size, 1, 'four concurrent first starts agree on one key')
    t.same(keys[0]!.refreshTokenSecret, keys[3]!.refreshTokenSecret, 'and so on the secrets derived from it')
    t.notOk(dirs.some((dir) => existsSync(join(dir, 'auth-signing-key.json'))), 'no key file is written beside the database')
    const { rows } = await store.db.query('select count(*)::int as n from embedded_auth.signing_keys')
    t.equal(rows[0]!.n, 1)

    await store.db.query(`update embedded_auth.signing_keys set private_jwk = '{"kty":"oct"}'`)
    await t.rejects(loadSigningKeys(dirs[0]!, store.db), SigningKeyFileError, 'an unusable key row stops the start')
  })

  t.test(`a key file of a single-instance deployment is adopted by the database on ${backend.name}`, async (t) => {
    const store = await backend.create()
    t.teardown(() => store.dispose())
    await migrate(store.db)
    const dir = tempDir()
    const fromFile = await loadSigningKeys(dir)
    const fromDb = await loadSigningKeys(dir, store.db)
    t.equal(fromDb.kid, fromFile.kid, 'the key the sessions were signed with is kept')
    t.equal((await loadSigningKeys(tempDir(), store.db)).kid, fromFile.kid, 'and another instance reads it from the database')
  })
}
