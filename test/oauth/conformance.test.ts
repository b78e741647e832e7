import t from 'tap'
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { freePort } from '../../scripts/lib/ports.ts'
import { backends, tempDir } from '../helpers/backends.ts'
import { checksIn, CONFORMANCE_CLI } from '../helpers/conformance.ts'
import { startTestServer } from '../helpers/server.ts'
import { Browser } from '../../scripts/lib/browser.ts'
import { signInThroughPages, signUp } from './helpers.ts'
import { register } from './manual-client.ts'

// A public client: the suite authenticates with `none` whenever the metadata lists it,
// even when given a secret, so a confidential client cannot be driven through it here.
t.test('the authorization-server scenarios of @modelcontextprotocol/conformance', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth' })
  t.teardown(() => server.dispose())
  const base = server.config.baseUrl
  await signUp(server, 'katherine@example.com', 'a long enough secret')
  const port = await freePort()
  const client = (await register(server, {
    client_name: 'conformance', redirect_uris: [`http://127.0.0.1:${port}/callback`], token_endpoint_auth_method: 'none',
  })).body
  const output = tempDir('atoms-mcp-conformance-')
  t.teardown(() => rmSync(output, { recursive: true, force: true }))

  const child = spawn(process.execPath, [CONFORMANCE_CLI, 'authorization', '--url', base, '--client-id', client.client_id, '--resource', `${base}/mcp`, '-p', String(port), '-o', output], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => {
    if (child.exitCode === null) child.kill()
  })
  let transcript = ''
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const authorizeUrl = await new Promise<string>((resolve, reject) => {
    const pattern = new RegExp(`${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/authorize\\?\\S+`)
    const read = (chunk: Buffer) => {
      transcript += chunk.toString()
      const match = pattern.exec(transcript)
      if (match) resolve(match[0])
    }
    child.stdout.on('data', read)
    child.stderr.on('data', read)
    void exited.then(() => reject(new Error(`conformance exited before asking for a sign-in:\n${transcript}`)))
  })

  // The scripted browser: sign in, approve, and follow the redirect to the suite's callback.
  const outcome = await signInThroughPages(new Browser(), authorizeUrl, { email: 'katherine@example.com', password: 'a long enough secret' })
  t.ok(outcome.location.searchParams.get('code'), 'the browser got a code for the suite')
  await fetch(outcome.location)

  t.equal(await exited, 0, 'the suite passes')
  const checks = checksIn(output)
  t.ok(checks.length > 0, `it recorded its checks: ${checks.map((check) => `${check.id ?? check.name}=${check.status}`).join(', ')}`)
  const failed = checks.filter((check) => check.status === 'FAILURE')
  t.same(failed, [], 'no check failed')
  const warnings = checks.filter((check) => check.status === 'WARNING')
  t.same(warnings, [], 'and none warned')
})
