import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { callTool } from '../../scripts/lib/mcp-call.ts'
import { backends } from '../helpers/backends.ts'
import { logCollector, supabaseClient } from '../helpers/auth.ts'
import { signInThroughBrowser } from '../helpers/browser.ts'
import { SecretLedger } from '../helpers/secrets.ts'
import { startTestServer } from '../helpers/server.ts'

const PASSWORD = 'Tr0ub4dor&3-secret-password'

// One run through every surface at LOG_LEVEL=trace, then a search of everything logged for
// every credential that passed: passwords, access and refresh tokens, codes and verifiers.
// The database is searched too: what it keeps of a credential is a hash or nothing.
t.test('no credential of a full run reaches the logs or sits in the database in the clear', async (t) => {
  const log = logCollector()
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'simple', LOG_LEVEL: 'trace', AUTH_EXTERNAL_PROVIDERS: 'github' }, { logStream: log.stream })
  t.teardown(() => server.dispose())
  const base = server.config.baseUrl
  const ledger = new SecretLedger()
  const keep = ledger.keep.bind(ledger)
  // Every text the embedded auth keeps, searched for the credentials seen so far.
  const storedInTheClear = () => ledger.storedInTheClear(server.db, ['embedded_auth'])
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
    return { status: response.status, body: (await response.json()) as any }
  }

  // supabase-js against the embedded auth: sign-up, sign-in, refresh, a wrong password.
  const supabase = supabaseClient(base, server.anonKey)
  keep('password', PASSWORD)
  const signUp = await supabase.auth.signUp({ email: 'secret@example.com', password: PASSWORD })
  t.equal(signUp.error, null)
  keep('sign-up access token', signUp.data.session!.access_token)
  keep('sign-up refresh token', signUp.data.session!.refresh_token)
  const signIn = await supabase.auth.signInWithPassword({ email: 'secret@example.com', password: PASSWORD })
  keep('sign-in refresh token', signIn.data.session!.refresh_token)
  const refreshed = await supabase.auth.refreshSession({ refresh_token: signIn.data.session!.refresh_token })
  keep('refreshed access token', refreshed.data.session!.access_token)
  keep('refreshed refresh token', refreshed.data.session!.refresh_token)
  keep('wrong password', 'Not-The-Password-4711')
  t.ok((await supabase.auth.signInWithPassword({ email: 'secret@example.com', password: 'Not-The-Password-4711' })).error)

  // Simple mode's own routes.
  const login = await post('/auth/login', { email: 'secret@example.com', password: PASSWORD })
  t.equal(login.status, 200)
  keep('login access token', login.body.access_token)
  keep('login refresh token', login.body.refresh_token)
  const again = await post('/auth/refresh', { refresh_token: login.body.refresh_token })
  keep('simple refresh token', again.body.refresh_token)
  t.equal((await fetch(`${base}/auth/status`, { headers: { authorization: `Bearer ${again.body.access_token}` } })).status, 200)
  keep('simple access token', again.body.access_token)

  // MCP: Streamable HTTP, the REST surface, the legacy SSE transport, and a refused token.
  const token = refreshed.data.session!.access_token
  t.equal((await callTool(base, token, 'whoami')).status, 200)
  t.equal((await callTool(base, token, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'S', slug: 'secret-org' } })).isError, false)
  const rest = await post('/api/mcp/tools/call', { tool: 'whoami', arguments: {} }, { authorization: `Bearer ${token}` })
  t.equal(rest.status, 200)
  const forged = `${token.slice(0, -8)}AAAAAAAA`
  keep('forged token', forged)
  t.equal((await callTool(base, forged, 'whoami')).status, 401)
  const sse = new Client({ name: 'secrets', version: '1.0.0' })
  await sse.connect(new SSEClientTransport(new URL(`${base}/sse`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }))
  await sse.callTool({ name: 'whoami', arguments: {} })
  await sse.close()

  // The embedded auth's PKCE flow through the local sign-in page.
  const verifier = randomBytes(48).toString('hex')
  keep('code verifier', verifier)
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  const steps = await signInThroughBrowser(
    `${base}/auth/v1/authorize?${new URLSearchParams({ provider: 'github', redirect_to: 'http://127.0.0.1:3999/cb', code_challenge: challenge, code_challenge_method: 's256' })}`,
    { email: 'social@example.com' },
  )
  keep('local provider code', new URL(steps.callback).searchParams.get('code'))
  const code = new URL(steps.final).searchParams.get('code')
  keep('PKCE code', code)
  t.same(await storedInTheClear(), [], 'none is stored in the clear while a code waits for its exchange')
  const exchanged = await post('/auth/v1/token?grant_type=pkce', { auth_code: code, code_verifier: verifier }, { apikey: server.anonKey })
  t.equal(exchanged.status, 200)
  keep('PKCE access token', exchanged.body.access_token)
  keep('PKCE refresh token', exchanged.body.refresh_token)

  t.equal((await post('/auth/logout', {}, { authorization: `Bearer ${again.body.access_token}` })).status, 200)

  const logged = log.text()
  t.ok(logged.split('\n').length > 20, `trace logging wrote ${logged.split('\n').length} lines`)
  t.same(ledger.foundIn(logged), [], `none of ${ledger.secrets.size} credentials is in the logs`)

  t.same(await storedInTheClear(), [], 'none is stored in the clear once the run is over')
})
