import t from 'tap'
import { backends } from '../helpers/backends.ts'
import { pageSecurityHeaders } from '../helpers/pages.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { Browser, formOf } from '../../scripts/lib/browser.ts'
import { REDIRECT_URI, signUp } from './helpers.ts'
import { authorizeUrl, pkce, register } from './manual-client.ts'

const USER = { email: 'pages@example.com', password: 'a long enough secret' }

interface Answer {
  route: string
  response: Response
}

/** Every HTML page of both sign-in surfaces (ours and the embedded auth's), each reached the way a browser reaches it. */
async function everyPage(server: TestServer): Promise<Answer[]> {
  const base = server.config.baseUrl
  const answers: Answer[] = []
  const visit = async (route: string, response: Promise<Response>) => {
    const answer = { route, response: await response }
    answers.push(answer)
    return answer.response
  }
  const browser = new Browser()
  const client = (await register(server)).body
  const { challenge } = pkce()
  const authorize = authorizeUrl(server, {
    response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', state: 's',
  })

  // This server's authorization pages.
  await visit('GET /authorize', fetch(authorizeUrl(server, { client_id: 'unknown' })))
  const signInPage = await visit('GET /authorize', browser.get(authorize))
  const signIn = formOf(await signInPage.clone().text(), 'name="email"')
  await visit('POST /authorize/sign-in', browser.post(`${base}${signIn.action}`, { ...signIn.fields, email: USER.email, password: 'wrong password' }))
  await visit('POST /authorize/consent', new Browser().post(`${base}/authorize/consent`, { ...signIn.fields, decision: 'approve' }))
  await visit('GET /authorize/provider', fetch(`${base}/authorize/provider?handle=unknown`))
  await visit('GET /auth/callback', fetch(`${base}/auth/callback?state=unknown`))
  const consentPage = await visit('POST /authorize/sign-in', browser.post(`${base}${signIn.action}`, { ...signIn.fields, ...USER }))
  const consent = formOf(await consentPage.clone().text(), 'name="decision"')
  await visit('POST /authorize/consent', browser.post(`${base}${consent.action}`, { ...consent.fields, decision: 'maybe' }))

  // The embedded auth's local provider and local consent pages.
  const provider = `${base}/auth/v1/local-provider/authorize`
  const callback = `${base}/auth/v1/callback`
  await visit('GET /auth/v1/local-provider/authorize', fetch(`${provider}?provider=github`))
  await visit('GET /auth/v1/local-provider/authorize', fetch(`${provider}?${new URLSearchParams({ provider: 'github', state: 'x', redirect_uri: callback })}`))
  await visit('POST /auth/v1/local-provider/authorize', new Browser().post(provider, { provider: 'github' }))
  await visit('POST /auth/v1/local-provider/authorize', new Browser().post(provider, { provider: 'github', state: 'x', redirect_uri: callback, email: 'not an address' }))
  await visit('GET /auth/v1/local-consent', fetch(`${base}/auth/v1/local-consent?authorization_id=00000000-0000-4000-8000-000000000000`))
  const registration = await fetch(`${base}/auth/v1/oauth/clients/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', apikey: server.anonKey },
    body: JSON.stringify({ client_name: 'pages', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' }),
  })
  const supabaseClient: any = await registration.json()
  const toConsent = await fetch(`${base}/auth/v1/oauth/authorize?${new URLSearchParams({ client_id: supabaseClient.client_id, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256' })}`, { redirect: 'manual' })
  const localConsent = await visit('GET /auth/v1/local-consent', fetch(new URL(toConsent.headers.get('location')!, base)))
  const localForm = formOf(await localConsent.clone().text(), 'name="email"')
  await visit('POST /auth/v1/local-consent', new Browser().post(`${base}/auth/v1/local-consent`, { ...localForm.fields, form_token: 'forged' }))
  await visit('POST /auth/v1/local-consent', new Browser().post(`${base}/auth/v1/local-consent`, { ...localForm.fields, email: USER.email, password: 'wrong', action: 'approve' }))
  return answers
}

/** Every route that answers an empty GET or POST with HTML, found by walking the route table. */
async function routesAnsweringHtml(server: TestServer): Promise<Set<string>> {
  const found = new Set<string>()
  for (const { method, url } of server.app.routeTable) {
    if ((method !== 'GET' && method !== 'POST') || url.includes(':') || url.includes('*') || url === '/sse' || url.endsWith('/mcp')) continue
    const response = await server.app.inject({ method, url, ...(method === 'POST' ? { payload: '' , headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}) })
    if (String(response.headers['content-type'] ?? '').startsWith('text/html')) found.add(`${method} ${url}`)
  }
  return found
}

t.test('every HTML page carries the page headers of helmet, and the JSON endpoints none of them', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth', OAUTH_PROVIDERS: 'github', AUTH_EXTERNAL_PROVIDERS: 'github', AUTH_OAUTH_SERVER_ALLOW_DYNAMIC_REGISTRATION: 'true' })
  t.teardown(() => server.dispose())
  await signUp(server, USER.email, USER.password)
  const expected = await pageSecurityHeaders(server.config.baseUrl)
  t.notOk('strict-transport-security' in expected, 'no HSTS for a plain http public URL')
  const policy = (csp: string) => csp.split(';').filter((directive) => !directive.startsWith('form-action')).join(';')

  const answers = await everyPage(server)
  for (const { route, response } of answers) {
    const what = `${route} (${response.status})`
    t.match(response.headers.get('content-type'), /^text\/html; charset=utf-8/, `${what} is a page`)
    const missing = Object.entries(expected).filter(([name, value]) => name !== 'content-security-policy' && response.headers.get(name) !== value)
    t.same(missing, [], `${what} has every page header`)
    const csp = response.headers.get('content-security-policy') ?? ''
    t.equal(policy(csp), policy(expected['content-security-policy']!), `${what} has the page CSP`)
    t.match(csp, /(^|;)form-action 'self'/, `${what} lets forms post to this server`)
  }
  const visited = new Set(answers.map((answer) => answer.route))
  const htmlRoutes = await routesAnsweringHtml(server)
  t.ok(htmlRoutes.size >= 6, `the route walk finds the page routes (${[...htmlRoutes].join(', ')})`)
  t.same([...htmlRoutes].filter((route) => !visited.has(route)), [], 'no page route is left out of the list')

  const signInCsp = answers.find((answer) => answer.route === 'GET /authorize' && answer.response.status === 200)!.response.headers.get('content-security-policy')
  t.match(signInCsp, /form-action 'self' http:\/\/127\.0\.0\.1:8976(;|$)/, 'the sign-in page allows the redirect to the client')
  const providerCsp = answers.find((answer) => answer.route === 'GET /auth/v1/local-provider/authorize' && answer.response.status === 200)!.response.headers.get('content-security-policy')
  t.match(providerCsp, /form-action 'self' http: https:(;|$)/, 'the local provider page allows the app redirect at the end of the sign-in')

  const base = server.config.baseUrl
  const json = {
    'POST /token': await fetch(`${base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' }),
    'POST /register': await fetch(`${base}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
    'POST /mcp': await fetch(`${base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
    'GET /auth/v1/settings': await fetch(`${base}/auth/v1/settings`, { headers: { apikey: server.anonKey } }),
    'GET /.well-known/oauth-authorization-server': await fetch(`${base}/.well-known/oauth-authorization-server`),
  }
  for (const [route, response] of Object.entries(json)) {
    const pageOnly = ['content-security-policy', 'x-frame-options', 'cross-origin-opener-policy'].filter((name) => response.headers.has(name))
    t.same(pageOnly, [], `${route} (${response.status}) carries no page headers`)
  }
})

t.test('behind https, the pages add HSTS', async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth', BASE_URL: 'https://atoms.example.test', AUTH_EXTERNAL_PROVIDERS: 'github' })
  t.teardown(() => server.dispose())
  const expected = await pageSecurityHeaders(server.config.baseUrl)
  t.equal(expected['strict-transport-security'], 'max-age=31536000; includeSubDomains')
  const client = (await register({ ...server, config: { ...server.config, baseUrl: server.url } })).body
  const { challenge } = pkce()
  const pages = [
    await fetch(`${server.url}/authorize?${new URLSearchParams({ response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256' })}`),
    await fetch(`${server.url}/authorize?client_id=unknown`),
    await fetch(`${server.url}/auth/v1/local-provider/authorize`),
  ]
  for (const page of pages) t.equal(page.headers.get('strict-transport-security'), expected['strict-transport-security'], `HSTS on ${page.url} (${page.status})`)
  t.notOk((await fetch(`${server.url}/token`, { method: 'POST' })).headers.has('strict-transport-security'), 'not on the JSON endpoints')
})
