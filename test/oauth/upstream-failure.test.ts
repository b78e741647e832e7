import t from 'tap'
import { loadConfig } from '../../src/config.ts'
import { startServer } from '../../src/server.ts'
import { freePort } from '../../scripts/lib/ports.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { REDIRECT_URI, signUp } from './helpers.ts'
import { obtainCode, register, token } from './manual-client.ts'

for (const backend of backends()) {
  t.test(`Supabase Auth unreachable on ${backend.name}`, async (t) => {
    const healthy = await startTestServer(backend, { AUTH_MODE: 'oauth' })
    t.teardown(() => healthy.dispose())
    await signUp(healthy, 'alan@example.com', 'a long enough secret')
    const client = (await register(healthy)).body
    const { code, verifier } = await obtainCode(healthy, client.client_id, { email: 'alan@example.com', password: 'a long enough secret' })
    const issued = await token(healthy, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: client.client_id })

    // A second instance on the same database whose Supabase cannot be reached.
    const deadPort = await freePort()
    const cutOff = await startServer(
      loadConfig({
        HOST: '127.0.0.1', PORT: String(await freePort()), DATA_DIR: healthy.config.dataDir, LOG_LEVEL: 'silent', AUTH_MODE: 'oauth',
        BASE_URL: healthy.config.baseUrl, SUPABASE_URL: `http://127.0.0.1:${deadPort}`, SUPABASE_ANON_KEY: 'anon', UPSTREAM_TIMEOUT_MS: '1000',
      }, {}),
      { db: healthy.db },
    )
    t.teardown(() => cutOff.close())

    const response = await fetch(`${cutOff.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: issued.body.refresh_token, client_id: client.client_id }),
    })
    t.equal(response.status, 503, 'an unreachable Supabase is 503')
    t.equal(response.headers.get('retry-after'), '5')
    const body: any = await response.json()
    t.equal(body.error, 'temporarily_unavailable', 'not invalid_grant: the refresh token is still good')
    t.notMatch(body.error_description, /ECONNREFUSED|fetch failed|127\.0\.0\.1/, 'no upstream detail leaks')

    const retried = await token(healthy, { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token, client_id: client.client_id })
    t.equal(retried.status, 200, 'the same refresh token works once Supabase is back')
  })
}
