import t from 'tap'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { createUpstream, UpstreamError } from '../../src/oauth/upstream.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { signUp, supabaseUser } from './helpers.ts'

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'no failure',
    (error) => (error instanceof UpstreamError ? error.failure : `unexpected ${error}`),
  )

t.test('the Supabase Auth calls against the embedded auth', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth' })
  t.teardown(() => server.dispose())
  const upstream = createUpstream(server.config)
  await signUp(server, 'edsger@example.com', 'a long enough secret')

  const session = await upstream.signInWithPassword('edsger@example.com', 'a long enough secret')
  t.equal(session.email, 'edsger@example.com')
  t.ok(session.expiresAt > Date.now() / 1000)
  t.equal(await failureOf(upstream.signInWithPassword('edsger@example.com', 'wrong')), 'credentials')
  t.equal(await failureOf(upstream.signInWithPassword('nobody@example.com', 'wrong')), 'credentials', 'an unknown user looks the same')

  const refreshed = await upstream.refresh(session.refreshToken)
  t.not(refreshed.refreshToken, session.refreshToken)
  t.not(await failureOf(upstream.refresh('not-a-token')), 'unavailable', 'a bad refresh token is a refusal, never an outage')
  t.equal(await failureOf(upstream.exchangeCode('00000000-0000-4000-8000-000000000000', 'v'.repeat(43))), 'grant')

  await upstream.logout(refreshed.accessToken)
  t.equal((await supabaseUser(server, refreshed.accessToken)).status, 403, 'logout ends the session')
  await upstream.logout(refreshed.accessToken)
  t.pass('logging out an ended session is not an error')
})

t.test('an upstream that does not answer in time is unavailable', async (t) => {
  const sockets = new Set<import('node:net').Socket>()
  const silent = createServer((socket) => sockets.add(socket))
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    return new Promise((resolve) => silent.close(resolve))
  })
  const upstream = createUpstream({
    effectiveSupabaseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
    effectiveAnonKey: 'anon',
    upstreamTimeoutMs: 200,
  })
  t.equal(await failureOf(upstream.signInWithPassword('a@example.com', 'x')), 'unavailable')
  t.equal(await failureOf(upstream.refresh('x')), 'unavailable')
})
