import t from 'tap'
import { rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createClient } from '@supabase/supabase-js'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { freePort } from '../../scripts/lib/ports.ts'
import { loadConfig } from '../../src/config.ts'
import { SigningKeyFileError, loadSigningKeys } from '../../src/embedded-auth/keys.ts'
import { startServer } from '../../src/server.ts'
import { backends, tempDir } from '../helpers/backends.ts'
import { SERVER_CLIENT } from '../helpers/supabase.ts'

for (const backend of backends()) {
  t.test(`a restart keeps users, sessions and keys on ${backend.name}`, async (t) => {
    const store = await backend.create()
    t.teardown(() => store.dispose())
    // The servers open the database themselves, from the configuration, as `npm start` does.
    await store.db.close()
    const port = await freePort()
    const config = loadConfig(
      { HOST: '127.0.0.1', PORT: String(port), DATA_DIR: store.dataDir, LOG_LEVEL: 'silent', ...(store.url ? { DATABASE_URL: store.url } : {}) },
      {},
    )
    const clientOptions = { auth: SERVER_CLIENT }
    const issuer = `${config.baseUrl}/auth/v1`

    const before = await startServer(config)
    t.equal(before.db.kind, backend.name, `the server runs on ${backend.name}`)
    const supabase = createClient(config.baseUrl, config.effectiveAnonKey, clientOptions)
    const signUp = await supabase.auth.signUp({ email: 'restart@example.com', password: 'correct horse' })
    t.equal(signUp.error, null)
    const session = signUp.data.session!
    const kidBefore = (await (await fetch(`${issuer}/.well-known/jwks.json`)).json()).keys[0].kid
    await before.close()
    await t.rejects(fetch(`${issuer}/health`), 'the first server is gone')

    const after = await startServer(config)
    t.teardown(() => after.close())
    const jwks = await (await fetch(`${issuer}/.well-known/jwks.json`)).json()
    t.equal(jwks.keys[0].kid, kidBefore, 'the same key id after the restart')

    const { payload } = await jwtVerify(session.access_token, createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`)), {
      issuer,
      audience: 'authenticated',
      algorithms: ['ES256'],
    })
    t.equal(payload.sub, signUp.data.user!.id, 'the old access token verifies against the new JWKS')

    const fresh = createClient(config.baseUrl, config.effectiveAnonKey, clientOptions)
    const user = await fresh.auth.getUser(session.access_token)
    t.equal(user.data.user?.email, 'restart@example.com', 'the user and the session survived')
    const claims = await fresh.auth.getClaims(session.access_token)
    t.equal(claims.error, null, 'getClaims verifies the old token')

    const refreshed = await fresh.auth.refreshSession({ refresh_token: session.refresh_token })
    t.equal(refreshed.error, null, 'the old refresh token still refreshes')
    t.not(refreshed.data.session?.refresh_token, session.refresh_token)

    const signIn = await fresh.auth.signInWithPassword({ email: 'restart@example.com', password: 'correct horse' })
    t.equal(signIn.error, null, 'the password still works')
  })
}

t.test('an unusable signing key file stops the start with a message that names it', async (t) => {
  const dataDir = tempDir()
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const file = join(dataDir, 'auth-signing-key.json')
  const first = await loadSigningKeys(dataDir)
  t.equal((await loadSigningKeys(dataDir)).kid, first.kid, 'the key is read back, not made again')
  t.equal(statSync(file).mode & 0o777, 0o600, 'only its owner may read it')

  for (const [content, reason] of [
    ['{ not json', 'not JSON'],
    ['{"kid":"k","privateJwk":{"kty":"RSA"}}', 'not a P-256 key'],
    [JSON.stringify({ kid: 'k', privateJwk: { kty: 'EC', crv: 'P-256', d: 'AAAA', x: 'AAAA', y: 'AAAA' } }), 'a broken key'],
  ]) {
    writeFileSync(file, content!)
    await t.rejects(loadSigningKeys(dataDir), SigningKeyFileError, `${reason}: refused`)
    await t.rejects(loadSigningKeys(dataDir), { message: new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*delete it to create a new key`) }, `${reason}: the message names the file and the way out`)
  }
})
