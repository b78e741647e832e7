import t from 'tap'
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { freePort } from '../../scripts/lib/ports.ts'
import { backends, tempDir } from '../helpers/backends.ts'
import { checksByRun, CONFORMANCE_CLI } from '../helpers/conformance.ts'
import { startTestServer } from '../helpers/server.ts'
import { Browser } from '../../scripts/lib/browser.ts'
import { signInThroughPages, signUp } from './helpers.ts'
import { register } from './manual-client.ts'

// A public client: the suite authenticates with `none` whenever the metadata lists it,
// even when given a secret, so a confidential client cannot be driven through it here.
/** The authorization-server scenarios the suite runs at 2026-07-28 (`conformance list --authorization --spec-version 2026-07-28`). */
const SCENARIOS = ['authorization-server-metadata-endpoint', 'authorization-code-grant']

for (const backend of backends()) {
  t.test(`the authorization-server scenarios of @modelcontextprotocol/conformance at --spec-version 2026-07-28 on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_MODE: 'oauth' })
    t.teardown(() => server.dispose())
    const base = server.config.baseUrl
    await signUp(server, 'katherine@example.com', 'a long enough secret')
    const port = await freePort()
    const client = (await register(server, {
      client_name: 'conformance', redirect_uris: [`http://127.0.0.1:${port}/callback`], token_endpoint_auth_method: 'none',
    })).body
    const output = tempDir('atoms-mcp-conformance-')
    t.teardown(() => rmSync(output, { recursive: true, force: true }))

    // `--client-id=…` in one argument: a random id may begin with a dash, and one beginning
    // with `-V` would otherwise be read as the CLI's version flag.
    const child = spawn(process.execPath, [
      CONFORMANCE_CLI, 'authorization', '--url', base, `--client-id=${client.client_id}`, '--resource', `${base}/mcp`, '-p', String(port), '-o', output, '--spec-version', '2026-07-28',
    ], {
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

    const code = await exited
    t.equal(code, 0, 'the suite passes')
    if (code !== 0) t.comment(transcript)
    const runs = checksByRun(output)
    t.same([...runs.keys()].map((folder) => SCENARIOS.find((name) => folder.includes(name))).sort(), [...SCENARIOS].sort(), 'each scenario ran once')
    for (const scenario of SCENARIOS) {
      const checks = [...runs.entries()].find(([folder]) => folder.includes(scenario))?.[1] ?? []
      t.test(scenario, async (t) => {
        t.ok(checks.length > 0, `it recorded its checks: ${checks.map((check) => `${check.id ?? check.name}=${check.status}`).join(', ')}`)
        t.same(checks.filter((check) => check.status === 'FAILURE'), [], 'no check failed')
        t.same(checks.filter((check) => check.status === 'WARNING'), [], 'and none warned')
      })
    }
  })
}
