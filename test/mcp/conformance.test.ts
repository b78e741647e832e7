import http from 'node:http'
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import t from 'tap'
import { backends, tempDir } from '../helpers/backends.ts'
import { checksIn, CONFORMANCE_CLI, type ConformanceCheck } from '../helpers/conformance.ts'
import { signUp, startMcpServer } from '../helpers/mcp.ts'

// The server scenarios of @modelcontextprotocol/conformance against the real /mcp, at both
// revisions it serves. Scenarios that need the suite's own fixture tools, prompts or resources
// (tools-call-*, prompts-*, json-schema-2020-12, input-required-result-*, resources-read-*,
// resources-templates-read, completion-complete) do not apply to a product server and are not
// run; nor are those of features this stateless server does not offer (server-session-lifecycle,
// logging-set-level, resources-subscribe/unsubscribe, server-sse-*, the tasks extension).

const SCENARIOS: Array<[revision: string, scenarios: string[]]> = [
  ['2025-11-25', ['server-initialize', 'ping', 'tools-list', 'resources-list', 'dns-rebinding-protection']],
  [
    '2026-07-28',
    ['server-stateless', 'caching', 'http-header-validation', 'http-custom-header-server-validation', 'sep-2164-resource-not-found', 'tools-list', 'resources-list', 'dns-rebinding-protection'],
  ],
]

/**
 * Checks inside the scenarios above that cannot apply to this server, each allowed to fail
 * only for that reason: the suite's diagnostic fixture tools, a `prompts/list` probed
 * although no `prompts` capability is declared, and custom `x-mcp-header` parameters, which
 * none of the five tools declares.
 */
const NOT_APPLICABLE: Record<string, RegExp> = {
  'sep-2575-server-rejects-undeclared-capability': /Not testable: server does not list the diagnostic tool/,
  'sep-2575-missing-capability-http-400': /Not testable: server does not list the diagnostic tool/,
  'sep-2575-http-server-no-independent-requests-on-stream': /Not testable: server does not list the diagnostic tool/,
  'sep-2575-server-no-log-without-loglevel': /Not testable: server does not list the diagnostic tool/,
  'sep-2549-prompts-list-caching-hints': /prompts\/list returned JSON-RPC error -32601/,
  'sep-2243-server-no-xmcp-tool': /Not testable: server exposes no tool with x-mcp-header/,
  'sep-2243-server-decode-base64': /Not testable: server exposes no tool with x-mcp-header/,
  'sep-2243-server-validate-param-match': /Not testable: server exposes no tool with x-mcp-header/,
  'sep-2243-server-reject-invalid-param-chars': /Not testable: server exposes no tool with x-mcp-header/,
  'sep-2243-server-reject-param-mismatch': /Not testable: server exposes no tool with x-mcp-header/,
}



/**
 * The suite sends no credentials: this loopback proxy adds a real user's bearer token to
 * every request and passes everything else (Host and Origin included) through untouched.
 */
function tokenProxy(target: URL, token: string): Promise<{ url: string; close(): Promise<void> }> {
  const proxy = http.createServer((request, response) => {
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers: { ...request.headers, authorization: `Bearer ${token}` } },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(response)
      },
    )
    upstream.on('error', () => response.destroy())
    request.pipe(upstream)
  })
  return new Promise((resolve) => {
    proxy.listen(0, '127.0.0.1', () => {
      const { port } = proxy.address() as { port: number }
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise<void>((done) => proxy.close(() => done())),
      })
    })
  })
}

function runScenario(url: string, scenario: string, revision: string, output: string): Promise<{ code: number | null; transcript: string }> {
  const child = spawn(process.execPath, [CONFORMANCE_CLI, 'server', '--url', url, '--scenario', scenario, '--spec-version', revision, '-o', output], { stdio: ['ignore', 'pipe', 'pipe'] })
  let transcript = ''
  child.stdout.on('data', (chunk) => (transcript += chunk))
  child.stderr.on('data', (chunk) => (transcript += chunk))
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, transcript })))
}

// Thirteen runs of the suite, each its own process: on a loaded machine, more than the default time.
t.setTimeout(900_000)
t.test('the server scenarios of @modelcontextprotocol/conformance at 2025-11-25 and 2026-07-28', async (t) => {
  const server = await startMcpServer(backends()[0]!)
  t.teardown(() => server.dispose())
  const user = await signUp(server, 'conformance@example.com')
  const proxy = await tokenProxy(new URL(server.config.baseUrl), user.token)
  t.teardown(() => proxy.close())

  for (const [revision, scenarios] of SCENARIOS) {
    for (const scenario of scenarios) {
      t.test(`${scenario} at ${revision}`, async (t) => {
        const output = tempDir('atoms-mcp-conformance-')
        t.teardown(() => rmSync(output, { recursive: true, force: true }))
        const { code, transcript } = await runScenario(`${proxy.url}/mcp`, scenario, revision, output)
        const checks = checksIn(output)
        t.ok(checks.length > 0, `the suite recorded its checks`)
        const applies = (check: ConformanceCheck) => !(check.id && NOT_APPLICABLE[check.id]?.test(check.errorMessage ?? ''))
        const failed = checks.filter((check) => check.status === 'FAILURE' && applies(check)).map((check) => `${check.id ?? check.name}: ${check.errorMessage ?? ''}`)
        t.same(failed, [], 'no check that applies failed')
        t.same(checks.filter((check) => check.status === 'WARNING').map((check) => check.id ?? check.name), [], 'and none warned')
        const skipped = checks.length - checks.filter(applies).length
        t.comment(`${checks.filter((check) => check.status === 'SUCCESS').length} of ${checks.length} checks passed`)
        if (skipped === 0) t.equal(code, 0, code === 0 ? 'the suite passes' : transcript.slice(-2000))
        else t.comment(`${skipped} check(s) not applicable to this server`)
      })
    }
  }
})
