import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'

// Finding 4: TRUST_PROXY=true trusted every X-Forwarded-For hop, so a client that wrote its
// own left-most value picked its address and escaped every per-address limit.

const DEFAULT_REGISTRATIONS = loadConfig({}, {}).oauth.registrationsPerHour
const REAL_CLIENT = '198.51.100.7'

/** Registrations from one client that writes a new X-Forwarded-For each time; the proxy appends the address it saw. */
async function rotatingRegistrations(baseUrl: string, count: number): Promise<number[]> {
  const statuses: number[] = []
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${baseUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.${i}.0.1, ${REAL_CLIENT}` },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
    })
    statuses.push(response.status)
  }
  return statuses
}

const expected = [...Array(DEFAULT_REGISTRATIONS).fill(201), ...Array(25 - DEFAULT_REGISTRATIONS).fill(429)]

t.test('finding 4: TRUST_PROXY=true is refused, with what to set instead', async (t) => {
  try {
    loadConfig({ TRUST_PROXY: 'true' }, {})
    t.fail('TRUST_PROXY=true was accepted')
  } catch (error) {
    t.type(error, ConfigError)
    t.match((error as ConfigError).problems, [/^TRUST_PROXY: .*number of proxies/])
  }
  t.equal(loadConfig({}, {}).trustProxy, false, 'off by default')
  t.equal(loadConfig({ TRUST_PROXY: '2' }, {}).trustProxy, 2, 'a hop count')
  t.same(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1, loopback' }, {}).trustProxy, ['10.0.0.0/8', '127.0.0.1', 'loopback'], 'proxy addresses and ranges')
  for (const bad of ['yes', '10.0.0.0/33', 'proxy.example.com', '1.2.3']) t.throws(() => loadConfig({ TRUST_PROXY: bad }, {}), ConfigError, `"${bad}" is refused`)
})

for (const trustProxy of ['1', '127.0.0.1']) {
  t.test(`finding 4: rotating X-Forwarded-For through one trusted proxy (TRUST_PROXY=${trustProxy}) gets 429 from the 21st registration`, async (t) => {
    const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth', TRUST_PROXY: trustProxy })
    t.teardown(() => server.dispose())
    t.same(await rotatingRegistrations(server.config.baseUrl, 25), expected, 'the client address is the one the proxy saw')
  })
}
