import t from 'tap'
import fc from 'fast-check'
import { buildApp } from '../../src/app.ts'
import { AUTH_MODES, loadConfig } from '../../src/config.ts'
import { migrate } from '../../src/db/migrate.ts'
import { backends } from '../helpers/backends.ts'
import { MARKUP, authorizations, bodies, checkAnswer, concreteUrl, contentTypes, queries, walkedRoutes } from '../helpers/bad-input.ts'

// Every route of every auth mode (simple adds /auth/login and friends; oauth will add its
// own, and is walked here as soon as it registers them), with hostile headers and bodies on
// top of test/bad-input.test.ts's: never a 500, never a crash, never markup echoed into HTML.

const headerNames = fc.oneof(
  fc.constantFrom(
    'accept', 'accept-encoding', 'content-encoding', 'transfer-encoding', 'origin', 'host', 'cookie', 'apikey', 'x-forwarded-for',
    'x-forwarded-proto', 'x-request-id', 'mcp-protocol-version', 'mcp-session-id', 'last-event-id', 'range', 'if-none-match', 'expect',
  ),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
)
const headerValues = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.constant(MARKUP),
  fc.constantFrom('gzip', 'br', 'identity, deflate', 'chunked', 'text/event-stream', '2025-06-18', '1999-01-01', 'null', 'https://evil.example', 'bytes=0-1'),
  fc.string({ minLength: 2_000, maxLength: 8_000 }),
)
// Node refuses control characters in header values itself; those never reach a server.
const headers = fc.dictionary(headerNames, headerValues.map((v) => v.replace(/[\0-\x1f\x7f]/g, ' ')), { maxKeys: 6 })

const INVALID_UTF8 = [Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), Buffer.from([0xff])]
const jsonWithInvalidUtf8 = fc.tuple(fc.constantFrom('email', 'password', 'refresh_token', 'method', 'name', 'x'), fc.constantFrom(...INVALID_UTF8)).map(([key, bytes]) =>
  Buffer.concat([Buffer.from(`{"${key}":"a`), bytes, Buffer.from('b","jsonrpc":"2.0","id":1}')]),
)
const deeplyNested = fc.integer({ min: 1_000, max: 50_000 }).map((depth) => Buffer.from('{"a":'.repeat(depth) + '1' + '}'.repeat(depth)))
const huge = fc.constantFrom((1 << 20) - 64, 1 << 20, (1 << 20) + 1, 3 << 20).map((size) => Buffer.concat([Buffer.from('{"x":"'), Buffer.alloc(size, 0x61), Buffer.from('"}')]))

const jsonRpcValue = fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 20 }), fc.constant(MARKUP), fc.array(fc.integer(), { maxLength: 3 }), fc.object({ maxDepth: 2 }))
const jsonRpcMessage = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), fc.constant('1.0'), jsonRpcValue),
    id: jsonRpcValue,
    method: fc.oneof(fc.constantFrom('initialize', 'tools/list', 'tools/call', 'resources/read', 'resources/list', 'ping', 'notifications/initialized', 'notifications/cancelled', 'completion/complete', 'logging/setLevel'), jsonRpcValue),
    params: fc.oneof(
      jsonRpcValue,
      fc.record({ name: fc.oneof(fc.constantFrom('whoami', 'entity_tool', 'workspace_tool', 'relationship_tool', 'get_api_usage'), jsonRpcValue), arguments: jsonRpcValue }, { requiredKeys: [] }),
      fc.record({ uri: fc.oneof(fc.webUrl(), fc.string(), fc.constant('atoms://x/../../etc')), protocolVersion: jsonRpcValue }, { requiredKeys: [] }),
    ),
    result: jsonRpcValue,
    error: jsonRpcValue,
  },
  { requiredKeys: [] },
)
const jsonRpcGarbage = fc.oneof(jsonRpcMessage, fc.array(jsonRpcMessage, { maxLength: 5 }), fc.constant([]), jsonRpcValue).map((v) => Buffer.from(JSON.stringify(v) ?? 'null'))

const anyBody = fc.oneof({ weight: 4, arbitrary: bodies }, jsonWithInvalidUtf8, deeplyNested, jsonRpcGarbage, { weight: 1, arbitrary: huge })

const backend = backends()[0]!
let triedInAll = 0

for (const mode of AUTH_MODES) {
  t.test(`no input makes any route of the ${mode} mode answer 500`, async (t) => {
    const store = await backend.create()
    t.teardown(() => store.dispose())
    await migrate(store.db)
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '8000', DATA_DIR: store.dataDir, LOG_LEVEL: 'silent', AUTH_MODE: mode }, {})
    const app = await buildApp(config, { db: store.db })
    t.teardown(() => app.close())
    await app.ready()
    const routes = walkedRoutes(app)
    if (mode === 'simple') t.ok(routes.some((r) => r.url === '/auth/login'), 'the simple mode routes are walked too')
    const mcpRoutes = routes.filter((r) => r.method === 'POST' && (r.url === '/mcp' || r.url === '/messages'))
    t.equal(mcpRoutes.length, 2, 'and /mcp and /messages, which get JSON-RPC-shaped garbage')

    const send = async (method: string, url: string, body: Buffer | undefined, extra: Record<string, string>) => {
      const response = await app.inject({ method: method as any, url, headers: extra, ...(body ? { payload: body } : {}) })
      triedInAll++
      checkAnswer(`${method} ${url}`, response)
    }
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), anyBody, contentTypes, queries, authorizations, headers, fc.string({ maxLength: 16 }), async (route, body, contentType, query, authorization, fuzzed, param) => {
        const search = new URLSearchParams(query).toString()
        const url = concreteUrl(route.url, param)
        const sendsBody = route.method !== 'GET' && route.method !== 'DELETE'
        await send(route.method, search ? `${url}?${search}` : url, sendsBody ? body : undefined, {
          ...fuzzed,
          ...(contentType && sendsBody ? { 'content-type': contentType } : {}),
          ...(authorization ? { authorization } : {}),
        })
      }),
      { numRuns: 180 },
    )
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...mcpRoutes), jsonRpcGarbage, queries, headers, async (route, body, query, fuzzed) => {
        const search = new URLSearchParams(query).toString()
        await send(route.method, search ? `${route.url}?${search}` : route.url, body, { ...fuzzed, 'content-type': 'application/json', accept: 'application/json, text/event-stream' })
      }),
      { numRuns: 100 },
    )
    t.pass(`${mode}: ${routes.length} routes, none answered 500`)
  })
}

t.test('figures', async (t) => {
  t.ok(triedInAll >= AUTH_MODES.length * 280, `${triedInAll} bad requests over ${AUTH_MODES.length} auth modes`)
})
