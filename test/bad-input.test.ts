import t from 'tap'
import fc from 'fast-check'
import { authorizations, bodies, checkAnswer, concreteUrl, contentTypes, queries, walkedRoutes } from './helpers/bad-input.ts'
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { migrate } from '../src/db/migrate.ts'
import { backends } from './helpers/backends.ts'

// Property-based: whatever arrives at any route, the answer is never a 500 and never
// reflects markup unescaped into an HTML page. (test/reliability/bad-input.test.ts runs the
// same walk in every auth mode, with headers and bodies of its own.)
for (const backend of backends().slice(0, 1)) {
  t.test(`no input makes any route answer 500 (${backend.name})`, async (t) => {
    const store = await backend.create()
    t.teardown(() => store.dispose())
    await migrate(store.db)
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '8000', DATA_DIR: store.dataDir, LOG_LEVEL: 'silent' }, {})
    const app = await buildApp(config, { db: store.db })
    t.teardown(() => app.close())
    await app.ready()
    const routes = walkedRoutes(app)
    t.ok(routes.length > 10, `walks ${routes.length} routes`)

    let tried = 0
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes), bodies, contentTypes, queries, authorizations, fc.string({ maxLength: 16 }),
        async (route, body, contentType, query, authorization, param) => {
          const url = concreteUrl(route.url, param)
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
          checkAnswer(`${route.method} ${url}`, response)
        },
      ),
      { numRuns: 600 },
    )
    t.ok(tried >= 600, `${tried} malformed requests, none answered 500`)

    const huge = await app.inject({ method: 'POST', url: '/auth/v1/signup', headers: { 'content-type': 'application/json' }, payload: Buffer.alloc(2 << 20, 0x20) })
    t.equal(huge.statusCode, 413, 'an oversized body is refused with 413')
  })
}
