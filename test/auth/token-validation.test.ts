import t from 'tap'
import { createServer } from 'node:http'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { CHALLENGE_INVALID_TOKEN, logCollector, probe, probeRoutes, signedInUser } from '../helpers/auth.ts'

const USER_ENDPOINT = '/auth/v1/user'

/** A JWKS with no keys: what an HS256-only project publishes. */
async function emptyJwks() {
  const server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}/jwks.json`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

for (const backend of backends()) {
  t.test(`TOKEN_VALIDATION in simple mode on ${backend.name}`, async (t) => {
    const jwks = await emptyJwks()
    t.teardown(() => jwks.close())

    const cases: Array<{ name: string; env: Record<string, string>; status: number; upstreamCalls: number }> = [
      { name: 'auto, the key is published: verified locally', env: {}, status: 200, upstreamCalls: 0 },
      { name: 'auto, the key is not published: Supabase is asked', env: { JWKS_URL: jwks.url }, status: 200, upstreamCalls: 1 },
      { name: 'local, the key is not published: refused', env: { JWKS_URL: jwks.url, TOKEN_VALIDATION: 'local' }, status: 401, upstreamCalls: 0 },
      { name: 'remote: Supabase is asked even with a key', env: { TOKEN_VALIDATION: 'remote' }, status: 200, upstreamCalls: 1 },
    ]
    for (const scenario of cases) {
      t.test(scenario.name, async (t) => {
        const log = logCollector()
        const server = await startTestServer(backend, { AUTH_MODE: 'simple', LOG_LEVEL: 'info', ...scenario.env }, { extraRoutes: probeRoutes, logStream: log.stream })
        t.teardown(() => server.dispose())
        const judy = await signedInUser(server.config.baseUrl, server.anonKey, 'judy@example.com')
        const answer = await probe(server.config.baseUrl, judy.session.access_token)
        t.equal(answer.status, scenario.status)
        if (scenario.status === 200) t.equal(answer.body.userId, judy.userId)
        else t.match(answer.challenge, CHALLENGE_INVALID_TOKEN)
        t.equal(log.arrivals(USER_ENDPOINT), scenario.upstreamCalls, `${scenario.upstreamCalls} call(s) to /auth/v1/user`)
      })
    }
  })
}
