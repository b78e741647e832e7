import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.ts'
import { BENCH_USER } from '../../src/mcp/bench-user.ts'
import { logCollector } from '../helpers/auth.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'

const whoami = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'whoami', arguments: {} } }
const post = (url: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(whoami) })

t.test('BENCH_UNAUTHENTICATED_MCP is off by default and refused unless HOST is loopback', async (t) => {
  t.equal(loadConfig({}, {}).benchUnauthenticatedMcp, false)
  t.equal(loadConfig({ HOST: '127.0.0.1', BENCH_UNAUTHENTICATED_MCP: 'true' }, {}).benchUnauthenticatedMcp, true)
  for (const host of ['0.0.0.0', '::', '192.168.1.10', 'mcp.example.com']) {
    t.throws(() => loadConfig({ HOST: host, BENCH_UNAUTHENTICATED_MCP: 'true' }, {}), ConfigError, `refused with HOST=${host}`)
  }
})

for (const backend of backends()) {
  t.test(`/bench/mcp exists only with the switch, and says so loudly, on ${backend.name}`, async (t) => {
    const plain = await startTestServer(backend, { AUTH_MODE: 'jwt' })
    t.teardown(() => plain.dispose())
    t.equal((await post(`${plain.config.baseUrl}/bench/mcp`)).status, 404, 'no unauthenticated route without the switch')

    const log = logCollector()
    const bench = await startTestServer(backend, { AUTH_MODE: 'jwt', BENCH_UNAUTHENTICATED_MCP: 'true', LOG_LEVEL: 'error' }, { logStream: log.stream })
    t.teardown(() => bench.dispose())
    t.match(log.text(), /BENCH_UNAUTHENTICATED_MCP is set.*WITHOUT authentication/, 'the start logs a warning even at LOG_LEVEL=error')
    const response = await post(`${bench.config.baseUrl}/bench/mcp`)
    t.equal(response.status, 200)
    const message = (await response.json()) as any
    t.equal(message.id, 7)
    t.equal(JSON.parse(message.result.content[0].text).id, BENCH_USER.userId, 'calls are made as the fixed bench user')
    t.equal((await post(`${bench.config.baseUrl}/mcp`)).status, 401, '/mcp still needs a token')
  })
}
