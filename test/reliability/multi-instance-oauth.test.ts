import t from 'tap'
import { startCluster } from '../../scripts/lib/cluster.ts'
import { callTool } from '../../scripts/lib/mcp-call.ts'
import { obtainCode, redeemCode, refreshTokens, registerClient, type FlowStep } from '../../scripts/lib/oauth-flow.ts'
import { createDatabase } from '../../scripts/lib/services.ts'
import { EMBEDDED_ANON_KEY } from '../../src/config.ts'
import { supabaseClient } from '../helpers/auth.ts'
import { ownRedisDb } from '../helpers/redis.ts'

const databaseServer = process.env.TEST_DATABASE_URL

// Each step of an OAuth flow on another instance: the instances share the database (pending
// authorizations, codes, refresh tokens, the cookie and signing keys) and nothing else,
// not even a data folder.
t.test('an OAuth flow hops between two instances', { skip: databaseServer ? false : 'no TEST_DATABASE_URL (run through npm test)' }, async (t) => {
  const database = await createDatabase(databaseServer!)
  t.teardown(() => database.drop())
  const cluster = await startCluster({ count: 2, databaseUrl: database.url, redisUrl: ownRedisDb(process.env.TEST_REDIS_URL, 5), env: { AUTH_MODE: 'oauth' } })
  t.teardown(() => cluster.stop())
  // Pages and redirects name the public URL (the balancer); each step is sent to one instance.
  const [a, b] = cluster.instances.map((instance) => instance.url) as [string, string]

  const signUp = await supabaseClient(a, EMBEDDED_ANON_KEY).auth.signUp({ email: 'hop@example.com', password: 'a long enough secret' })
  t.equal(signUp.error, null, 'signed up on A')
  // Each step names the instance it goes to; the flow throws, naming the step, if one fails.
  const route: Record<FlowStep, string> = { register: b, authorize: a, 'sign-in': b, consent: a, token: b, refresh: a }
  const on = (step: FlowStep) => route[step]
  const client = await registerClient(on, { client_name: 'Hopper' })
  t.ok(client.client_id, 'client registered on B')
  const { code, verifier, consentShown } = await obtainCode(on, client.client_id, { email: 'hop@example.com', password: 'a long enough secret' }, { resource: `${cluster.url}/mcp` })
  t.ok(consentShown, 'authorization started on A, signed in on B, approved on A')
  const issued = await redeemCode(on, { clientId: client.client_id, code, verifier })
  t.ok(issued.refresh_token, 'the code from A is redeemed on B')
  const refreshed = await refreshTokens(on, client.client_id, issued.refresh_token)
  t.not(refreshed.refresh_token, issued.refresh_token, 'refreshed on A')
  const me = await callTool(b, refreshed.access_token, 'whoami')
  t.equal(me.value?.id, signUp.data.user!.id, 'and the refreshed token is the user on B')
  const again = await callTool(a, refreshed.access_token, 'whoami')
  t.equal(again.value?.id, signUp.data.user!.id, 'and on A')
})
