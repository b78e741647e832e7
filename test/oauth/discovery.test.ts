import t from 'tap'
import { InvalidTokenError } from '../../src/auth/errors.ts'
import { auth } from '@modelcontextprotocol/sdk/client/auth.js'
import { createOAuthMode } from '../../src/oauth/index.ts'
import { bearerChallenge } from '../../src/auth/challenge.ts'
import { backends } from '../helpers/backends.ts'
import { freePort } from '../../scripts/lib/ports.ts'
import { startTestServer } from '../helpers/server.ts'
import { signUp, sessionUser, TestOAuthProvider } from './helpers.ts'

const backend = backends()[0]!

t.test('discovery documents', async (t) => {
  const server = await startTestServer(backend, { AUTH_MODE: 'oauth' })
  t.teardown(() => server.dispose())
  const base = server.config.baseUrl
  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`)
    return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as any }
  }

  for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
    const prm = await get(path)
    t.equal(prm.status, 200, path)
    t.match(prm.type, /application\/json/)
    t.same(prm.body.resource, `${base}/mcp`)
    t.same(prm.body.authorization_servers, [base])
    t.same(prm.body.bearer_methods_supported, ['header'])
    t.ok(prm.body.scopes_supported.length > 0)
    t.notOk(prm.body.scopes_supported.includes('offline_access'), 'the resource does not advertise offline_access')
  }

  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    const as = await get(path)
    t.equal(as.status, 200, path)
    t.equal(as.body.issuer, base, 'the issuer is BASE_URL exactly')
    t.equal(as.body.authorization_endpoint, `${base}/authorize`)
    t.equal(as.body.token_endpoint, `${base}/token`)
    t.equal(as.body.registration_endpoint, `${base}/register`)
    t.equal(as.body.revocation_endpoint, `${base}/revoke`)
    t.equal(as.body.introspection_endpoint, undefined, 'introspection is off without OAUTH_INTROSPECTION_SECRET')
    t.same(as.body.code_challenge_methods_supported, ['S256'], 'S256 only')
    t.ok(as.body.scopes_supported.includes('offline_access'))
    t.same(as.body.response_types_supported, ['code'])
    t.same(as.body.grant_types_supported, ['authorization_code', 'refresh_token'])
    t.same(as.body.token_endpoint_auth_methods_supported, ['none', 'client_secret_basic', 'client_secret_post'])
    t.equal(as.body.client_id_metadata_document_supported, true)
    t.equal(as.body.authorization_response_iss_parameter_supported, true)
  }

  for (const path of ['/token', '/register', '/revoke', '/.well-known/oauth-authorization-server', '/.well-known/oauth-protected-resource/mcp']) {
    const preflight = await fetch(`${base}${path}`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    })
    t.equal(preflight.status, 204, `a browser-based client may call ${path}`)
    t.equal(preflight.headers.get('access-control-allow-origin'), '*')
  }
  const refused = await fetch(`${base}/token`, { method: 'POST', headers: { origin: 'http://localhost:6274', 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=password' })
  t.equal(refused.headers.get('access-control-allow-origin'), '*', 'and read the error of /token')
  const page = await fetch(`${base}/authorize`, { headers: { origin: 'http://localhost:6274' } })
  t.equal(page.headers.get('access-control-allow-origin'), null, 'the sign-in pages stay closed to other origins')

  const params = createOAuthMode({ config: server.config, db: server.db }).challengeParams()
  t.same(params, { resource_metadata: `${base}/.well-known/oauth-protected-resource/mcp`, scope: 'atoms:read atoms:write' }, 'the mode gives its challenge params')

  const none = bearerChallenge(undefined, params)
  t.equal(none, `Bearer realm="atoms-mcp", resource_metadata="${base}/.well-known/oauth-protected-resource/mcp", scope="atoms:read atoms:write"`, 'the 401 challenge without a token')
  const invalid = bearerChallenge(new InvalidTokenError('the access token is invalid or expired'), params)
  t.match(invalid, /^Bearer realm="atoms-mcp", resource_metadata="[^"]+", scope="[^"]+", error="invalid_token", error_description="the access token is invalid or expired"$/)
})

t.test('BASE_URL with a path moves every endpoint and the well-known documents', async (t) => {
  const probe = await startTestServer(backend, { AUTH_MODE: 'oauth' })
  const port = new URL(probe.config.baseUrl).port
  await probe.dispose()
  const server = await startTestServer(backend, { AUTH_MODE: 'oauth', PORT: port, BASE_URL: `http://127.0.0.1:${port}/fastmcp` })
  t.teardown(() => server.dispose())
  const origin = `http://127.0.0.1:${port}`
  const base = `${origin}/fastmcp`
  for (const path of ['/.well-known/oauth-authorization-server/fastmcp', '/.well-known/openid-configuration/fastmcp', '/fastmcp/.well-known/openid-configuration']) {
    const response = await fetch(`${origin}${path}`)
    t.equal(response.status, 200, path)
    const body: any = await response.json()
    t.equal(body.issuer, base)
    t.equal(body.token_endpoint, `${base}/token`)
  }
  const prm: any = await (await fetch(`${origin}/.well-known/oauth-protected-resource/fastmcp/mcp`)).json()
  t.equal(prm.resource, `${base}/mcp`)
  const registered = await fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
  })
  t.equal(registered.status, 201, 'registration is served under the path')
  const { client_id } = (await registered.json()) as any
  const page = await fetch(`${base}/authorize?${new URLSearchParams({ response_type: 'code', client_id, redirect_uri: 'http://127.0.0.1:9/cb', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`)
  t.equal(page.status, 200)
  t.match(await page.text(), /action="\/fastmcp\/authorize\/sign-in"/, 'the sign-in form posts under the path')

  // The whole flow, with the embedded auth under the path too.
  const userId = await signUp(server, 'path@example.com', 'a long enough secret')
  const provider = new TestOAuthProvider({ email: 'path@example.com', password: 'a long enough secret' })
  t.equal(await auth(provider, { serverUrl: `${base}/mcp` }), 'REDIRECT')
  t.equal(provider.lastRedirect?.searchParams.get('iss'), base)
  t.equal(await auth(provider, { serverUrl: `${base}/mcp`, authorizationCode: provider.pendingCode! }), 'AUTHORIZED', 'the SDK client finds everything under the path')
  t.equal((await sessionUser(server, provider.stored!.access_token)).id, userId)
})

t.test('SEP-2351: the default oauth-authorization-server suffix, path inserted (RFC 8414 §3.1), and every other form a client derives, at the root and under a BASE_URL path', async (t) => {
  for (const path of ['', '/fastmcp', '/tenants/acme']) {
    const port = String(await freePort())
    const origin = `http://127.0.0.1:${port}`
    const base = `${origin}${path}`
    const server = await startTestServer(backend, { AUTH_MODE: 'oauth', PORT: port, BASE_URL: base })
    try {
      const as = await fetch(`${origin}/.well-known/oauth-authorization-server${path}`)
      t.equal(as.status, 200, `${path || 'root'}: the RFC 8414 form from the issuer ${base}`)
      const metadata: any = await as.json()
      t.equal(metadata.issuer, base, 'its issuer is the one the URL was derived from (RFC 8414 §3.3)')
      for (const form of [
        `/.well-known/openid-configuration${path}`, `${path}/.well-known/openid-configuration`, `${path}/.well-known/oauth-authorization-server`,
      ]) {
        const response = await fetch(`${origin}${form}`)
        t.equal(response.status, 200, form)
        const document: any = await response.json()
        if (form.includes('openid-configuration')) {
          // finding 17.1: behind one proxy rule for the path this is the only form a client reaches, and the SDK refused it.
          t.same(document, { ...metadata, subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['ES256'] }, `${form}: the same document, with the members an OpenID Provider document requires`)
        } else t.same(document, metadata, `${form}: the same document`)
      }
      for (const form of [`/.well-known/oauth-protected-resource${path}/mcp`, `/.well-known/oauth-protected-resource${path}`, `${path}/.well-known/oauth-protected-resource`]) {
        const response = await fetch(`${origin}${form}`)
        t.equal(response.status, 200, form)
        const prm: any = await response.json()
        t.same([prm.resource, prm.authorization_servers], [`${base}/mcp`, [base]], `${form}: the resource and its issuer`)
      }
      t.equal((await fetch(`${origin}/.well-known/mcp-authorization-server${path}`)).status, 404, 'no application-specific suffix')
      if (path) t.equal((await fetch(`${origin}/.well-known/oauth-authorization-server`)).status, 404, 'nor the root form, which names another issuer')
    } finally {
      await server.dispose()
    }
  }
})
