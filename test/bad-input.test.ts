import t from 'tap'
import fc from 'fast-check'
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { migrate } from '../src/db/migrate.ts'
import { backends } from './helpers/backends.ts'

// Property-based: whatever arrives at any route, the answer is never a 500 and never
// reflects markup unescaped into an HTML page.
const MARKUP = '<script>alert(1)</script>'

const contentTypes = fc.constantFrom(
  'application/json', 'application/json; charset=utf-8', 'application/x-www-form-urlencoded', 'text/plain',
  'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream', '', 'garbage/*;;;',
)

const bodies = fc.oneof(
  fc.json().map((text) => Buffer.from(text)),
  fc.string().map((text) => Buffer.from(text)),
  fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
  fc.dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.string(), fc.constant(MARKUP), fc.integer(), fc.constant(null)))
    .map((object) => Buffer.from(JSON.stringify(object))),
  fc.dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.string(), fc.constant(MARKUP)))
    .map((object) => Buffer.from(new URLSearchParams(object).toString())),
  fc.integer({ min: 1, max: 20_000 }).map((depth) => Buffer.from('['.repeat(depth) + ']'.repeat(depth))),
  fc.constant(Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1])),
)

const queries = fc.dictionary(
  fc.constantFrom('grant_type', 'provider', 'redirect_to', 'code_challenge', 'code_challenge_method', 'state', 'code', 'scope', 'error', 'x', 'client_id', 'redirect_uri', 'response_type', 'resource'),
  fc.oneof(fc.string(), fc.constant(MARKUP), fc.constant('password'), fc.constant('github'), fc.webUrl()),
)

const authorizations = fc.oneof(
  fc.constant(undefined),
  fc.string().map((s) => `Bearer ${s}`),
  fc.constant('Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'),
  fc.string(),
)

for (const backend of backends().slice(0, 1)) {
  t.test(`no input makes any route answer 500 (${backend.name})`, async (t) => {
    const store = await backend.create()
    t.teardown(() => store.dispose())
    await migrate(store.db)
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '8000', DATA_DIR: store.dataDir, LOG_LEVEL: 'silent' }, {})
    const app = await buildApp(config, { db: store.db })
    t.teardown(() => app.close())
    await app.ready()
    const routes = app.routeTable.filter((route) => route.method !== 'OPTIONS')
    t.ok(routes.length > 10, `walks ${routes.length} routes`)

    let tried = 0
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes), bodies, contentTypes, queries, authorizations, fc.string({ maxLength: 16 }),
        async (route, body, contentType, query, authorization, param) => {
          const url = route.url.replace(/:[A-Za-z_]+/g, encodeURIComponent(param) || 'x').replace(/\*$/, encodeURIComponent(param))
          const search = new URLSearchParams(query).toString()
          const sendsBody = route.method !== 'GET' && route.method !== 'DELETE'
          const response = await app.inject({
            method: route.method as any,
            url: search ? `${url}?${search}` : url,
            headers: {
              ...(contentType && sendsBody ? { 'content-type': contentType } : {}),
              ...(authorization ? { authorization } : {}),
            },
            ...(sendsBody ? { payload: body } : {}),
          })
          tried++
          if (response.statusCode >= 500 && response.statusCode !== 503) {
            throw new Error(`${route.method} ${url} answered ${response.statusCode}: ${response.body.slice(0, 300)}`)
          }
          if (String(response.headers['content-type'] ?? '').startsWith('text/html') && response.body.includes(MARKUP)) {
            throw new Error(`${route.method} ${url} reflected markup unescaped`)
          }
        },
      ),
      { numRuns: 600 },
    )
    t.ok(tried >= 600, `${tried} malformed requests, none answered 500`)

    const huge = await app.inject({ method: 'POST', url: '/auth/v1/signup', headers: { 'content-type': 'application/json' }, payload: Buffer.alloc(2 << 20, 0x20) })
    t.equal(huge.statusCode, 413, 'an oversized body is refused with 413')
  })
}
