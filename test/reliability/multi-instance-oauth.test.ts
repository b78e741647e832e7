import t from 'tap'
import { startCluster } from '../../scripts/lib/cluster.ts'
import { callTool } from '../../scripts/lib/mcp-call.ts'
import { createDatabase } from '../../scripts/lib/services.ts'
import { EMBEDDED_ANON_KEY } from '../../src/config.ts'
import { supabaseClient } from '../helpers/auth.ts'
import { Browser, formOf } from '../oauth/browser.ts'
import { REDIRECT_URI } from '../oauth/helpers.ts'
import { pkce } from '../oauth/manual-client.ts'

const databaseServer = process.env.TEST_DATABASE_URL

// Each step of an OAuth flow on another instance: the instances share the database (pending
// authorizations, codes, refresh tokens, the cookie and signing keys) and nothing else,
// not even a data folder.
t.test('an OAuth flow hops between two instances', { skip: databaseServer ? false : 'no TEST_DATABASE_URL (run through npm test)' }, async (t) => {
  const database = await createDatabase(databaseServer!)
  t.teardown(() => database.drop())
  const cluster = await startCluster({ count: 2, databaseUrl: database.url, redisUrl: process.env.TEST_REDIS_URL, env: { AUTH_MODE: 'oauth' } })
  t.teardown(() => cluster.stop())
  const [a, b] = cluster.instances.map((instance) => instance.url) as [string, string]
  // Pages and redirects name the public URL (the balancer); each step is sent to one instance.
  const on = (instance: string, url: string) => url.replace(cluster.url, instance)

  const signUp = await supabaseClient(a, EMBEDDED_ANON_KEY).auth.signUp({ email: 'hop@example.com', password: 'a long enough secret' })
  t.equal(signUp.error, null, 'signed up on A')
  const registered = await fetch(`${b}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Hopper', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] }),
  })
  t.equal(registered.status, 201, 'client registered on B')
  const client = (await registered.json()) as { client_id: string }

  const { verifier, challenge } = pkce()
  const browser = new Browser()
  const authorize = new URL(`${a}/authorize`)
  for (const [key, value] of Object.entries({ response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', state: 'hop', resource: `${cluster.url}/mcp` })) {
    authorize.searchParams.set(key, value)
  }
  const page = await browser.get(authorize.toString())
  t.equal(page.status, 200, 'authorization started on A')
  const signIn = formOf(await page.text(), 'name="email"')
  const consentPage = await browser.post(on(b, new URL(signIn.action, cluster.url).toString()), { ...signIn.fields, email: 'hop@example.com', password: 'a long enough secret' })
  t.equal(consentPage.status, 200, 'signed in on B')
  const consent = formOf(await consentPage.text(), 'name="decision"')
  const done = await browser.post(on(a, new URL(consent.action, cluster.url).toString()), { ...consent.fields, decision: 'approve' })
  t.equal(done.status, 303, 'approved on A')
  const code = new URL(done.headers.get('location')!).searchParams.get('code')!

  const tokenOn = async (base: string, form: Record<string, string>) => {
    const response = await fetch(`${base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) })
    return { status: response.status, body: (await response.json()) as any }
  }
  const issued = await tokenOn(b, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: client.client_id })
  t.equal(issued.status, 200, 'the code from A is redeemed on B')
  const refreshed = await tokenOn(a, { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token, client_id: client.client_id })
  t.equal(refreshed.status, 200, 'refreshed on A')
  const me = await callTool(b, refreshed.body.access_token, 'whoami')
  t.equal(me.value?.id, signUp.data.user!.id, 'and the refreshed token is the user on B')
  const again = await callTool(a, refreshed.body.access_token, 'whoami')
  t.equal(again.value?.id, signUp.data.user!.id, 'and on A')
})
