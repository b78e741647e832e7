import t from 'tap'
import { SignJWT, generateKeyPair } from 'jose'
import { loadSigningKeys } from '../../src/embedded-auth/keys.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'

const V2024 = { 'x-supabase-api-version': '2024-01-01' }
const JSON_TYPE = { 'content-type': 'application/json;charset=UTF-8' }

interface Case {
  name: string
  method?: string
  path: string
  headers?: Record<string, string>
  body?: string
  status: number
  code: string
  message?: string | RegExp
}

const oversized = JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(1 << 20) })

/** Bad requests of every kind, each with GoTrue's answer; every one is sent in both error formats. */
const CASES: Case[] = [
  { name: 'malformed JSON', path: '/token?grant_type=password', body: '{"email":', status: 400, code: 'bad_json', message: /^Could not parse request body as JSON: / },
  { name: 'a JSON array body', path: '/token?grant_type=password', body: '[1,2]', status: 400, code: 'bad_json', message: /^Could not parse request body as JSON: / },
  { name: 'a JSON string body', path: '/signup', body: '"alice@example.com"', status: 400, code: 'bad_json' },
  { name: 'a JSON number body', path: '/token?grant_type=refresh_token', body: '42', status: 400, code: 'bad_json' },
  { name: 'a JSON true body', path: '/token?grant_type=pkce', body: 'true', status: 400, code: 'bad_json' },
  { name: 'a JSON null body (read as empty, as Go does)', path: '/token?grant_type=password', body: 'null', status: 400, code: 'validation_failed', message: 'missing email or phone' },
  { name: 'a body over 1 MiB', path: '/token?grant_type=password', body: oversized, status: 413, code: 'request_entity_too_large' },
  { name: 'a signup body over 1 MiB', path: '/signup', body: oversized, status: 413, code: 'request_entity_too_large' },
  { name: 'an unknown grant_type', path: '/token?grant_type=magic', body: '{}', status: 400, code: 'invalid_credentials', message: 'unsupported_grant_type' },
  { name: 'no grant_type', path: '/token', body: '{}', status: 400, code: 'invalid_credentials', message: 'unsupported_grant_type' },
  { name: 'a repeated grant_type (the first counts, as in Go)', path: '/token?grant_type=password&grant_type=pkce', body: '{}', status: 400, code: 'validation_failed', message: 'missing email or phone' },
  { name: 'grant_type in the body only', path: '/token', body: '{"grant_type":"password"}', status: 400, code: 'invalid_credentials', message: 'unsupported_grant_type' },
  { name: 'password grant, no email or phone', path: '/token?grant_type=password', body: '{"password":"x"}', status: 400, code: 'validation_failed', message: 'missing email or phone' },
  { name: 'password grant, email and phone', path: '/token?grant_type=password', body: '{"email":"a@example.com","phone":"+15551234567","password":"x"}', status: 400, code: 'validation_failed', message: 'Only an email address or phone number should be provided on login.' },
  { name: 'password grant, no password', path: '/token?grant_type=password', body: '{"email":"nobody@example.com"}', status: 400, code: 'invalid_credentials', message: 'Invalid login credentials' },
  { name: 'password grant, fields of the wrong type', path: '/token?grant_type=password', body: '{"email":{"$ne":null},"password":["x"]}', status: 400, code: 'bad_json', message: /^Could not parse request body as JSON: / },
  { name: 'signup, data that is not an object', path: '/signup', body: '{"email":"a@example.com","password":"correct horse","data":[1]}', status: 400, code: 'bad_json' },
  { name: 'signup with the nulls supabase-js sends, bad email', path: '/signup', body: '{"email":"x","password":"correct horse","data":{},"code_challenge":null,"code_challenge_method":null}', status: 400, code: 'validation_failed' },
  { name: 'refresh grant, no token', path: '/token?grant_type=refresh_token', body: '{}', status: 400, code: 'validation_failed', message: 'Refresh token is not valid' },
  { name: 'refresh grant, malformed token', path: '/token?grant_type=refresh_token', body: '{"refresh_token":"short"}', status: 400, code: 'validation_failed', message: 'Refresh token is not valid' },
  { name: 'refresh grant, unknown token', path: '/token?grant_type=refresh_token', body: '{"refresh_token":"abcdefghijkl"}', status: 400, code: 'refresh_token_not_found', message: 'Invalid Refresh Token: Refresh Token Not Found' },
  { name: 'pkce grant, no fields', path: '/token?grant_type=pkce', body: '{}', status: 400, code: 'validation_failed', message: 'invalid request: both auth code and code verifier should be non-empty' },
  { name: 'pkce grant, unknown code', path: '/token?grant_type=pkce', body: JSON.stringify({ auth_code: crypto.randomUUID(), code_verifier: 'v'.repeat(64) }), status: 404, code: 'flow_state_not_found', message: 'invalid flow state, no valid flow state found' },
  { name: 'pkce grant, a code that is not a UUID', path: '/token?grant_type=pkce', body: '{"auth_code":"nope","code_verifier":"nope"}', status: 404, code: 'flow_state_not_found' },
  { name: 'signup, empty body', path: '/signup', body: '{}', status: 422, code: 'anonymous_provider_disabled', message: 'Anonymous sign-ins are disabled' },
  { name: 'signup, no password', path: '/signup', body: '{"email":"a@example.com"}', status: 400, code: 'validation_failed', message: 'Signup requires a valid password' },
  { name: 'signup, bad email', path: '/signup', body: '{"email":"not-an-email","password":"correct horse"}', status: 400, code: 'validation_failed', message: /^Unable to validate email address: / },
  { name: 'signup, password over 72 characters', path: '/signup', body: JSON.stringify({ email: 'a@example.com', password: 'p'.repeat(73) }), status: 400, code: 'validation_failed', message: 'Password cannot be longer than 72 characters' },
  { name: 'signup, email and phone', path: '/signup', body: '{"email":"a@example.com","phone":"+15551234567","password":"correct horse"}', status: 400, code: 'validation_failed', message: 'Only an email address or phone number should be provided on signup.' },
  { name: 'a text/plain body that is JSON (GoTrue ignores the type)', path: '/token?grant_type=password', headers: { 'content-type': 'text/plain' }, body: '{"password":"x"}', status: 400, code: 'validation_failed', message: 'missing email or phone' },
  { name: 'a text/plain body that is not JSON', path: '/token?grant_type=password', headers: { 'content-type': 'text/plain' }, body: 'email=a', status: 400, code: 'bad_json' },
  { name: 'an unknown content type', path: '/signup', headers: { 'content-type': 'application/x-made-up' }, body: '<xml/>', status: 400, code: 'bad_json' },
  { name: 'no content type at all', path: '/token?grant_type=password', headers: { 'content-type': '' }, body: '{"password":"x"}', status: 400, code: 'validation_failed', message: 'missing email or phone' },
  { name: 'a form body (GoTrue reads JSON only)', path: '/token?grant_type=password', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=a%40example.com', status: 400, code: 'bad_json' },
  { name: 'logout with an unknown scope', path: '/logout?scope=everything', body: '', status: 400, code: 'validation_failed', message: 'Unsupported logout scope "everything"' },
  { name: 'logout without a token', path: '/logout', body: '', status: 401, code: 'no_authorization' },
  { name: 'an unknown route', method: 'GET', path: '/no-such-route', status: 404, code: 'not_found' },
  { name: 'authorize with an unknown provider', method: 'GET', path: '/authorize?provider=myspace', status: 400, code: 'validation_failed', message: 'Unsupported provider: Provider myspace could not be found' },
  { name: 'authorize with a disabled provider', method: 'GET', path: '/authorize?provider=gitlab', status: 400, code: 'validation_failed', message: 'Unsupported provider: provider is not enabled' },
  { name: 'authorize with half of PKCE', method: 'GET', path: `/authorize?provider=github&code_challenge=${'a'.repeat(43)}`, status: 400, code: 'validation_failed', message: 'PKCE flow requires code_challenge_method and code_challenge' },
  { name: 'authorize with a short challenge', method: 'GET', path: '/authorize?provider=github&code_challenge=abc&code_challenge_method=s256', status: 400, code: 'validation_failed', message: 'code challenge has to be between 43 and 128 characters' },
  { name: 'authorize with a bad method', method: 'GET', path: `/authorize?provider=github&code_challenge=${'a'.repeat(43)}&code_challenge_method=md5`, status: 400, code: 'validation_failed', message: 'Invalid code_challenge_method' },
]

for (const backend of backends()) {
  t.test(`embedded auth errors over HTTP on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_EXTERNAL_PROVIDERS: 'github' })
    t.teardown(() => server.dispose())
    const base = `${server.config.baseUrl}/auth/v1`

    const send = (c: Pick<Case, 'method' | 'path' | 'headers' | 'body'>, extra: Record<string, string> = {}) => {
      const headers: Record<string, string> = { apikey: server.anonKey, ...(c.body === undefined ? {} : JSON_TYPE), ...c.headers, ...extra }
      // An empty content type means none: bytes, unlike a string, make fetch add none itself.
      const untyped = headers['content-type'] === ''
      if (untyped) delete headers['content-type']
      return fetch(`${base}${c.path}`, {
        method: c.method ?? 'POST',
        headers,
        body: untyped && c.body !== undefined ? new TextEncoder().encode(c.body) : c.body,
        redirect: 'manual',
      })
    }

    t.test('the table of bad requests, in the 2024-01-01 format', async (t) => {
      for (const c of CASES) {
        const response = await send(c, V2024)
        const body = await response.json()
        t.equal(response.status, c.status, `${c.name}: status ${c.status}`)
        t.equal(body.code, c.code, `${c.name}: code`)
        t.equal(body.error_code, c.code, `${c.name}: error_code too`)
        t.equal(body.msg, body.message, `${c.name}: msg too`)
        if (c.message) t.match(body.message, c.message, `${c.name}: message`)
        t.equal(response.headers.get('x-sb-error-code'), c.code, `${c.name}: x-sb-error-code`)
        t.equal(response.headers.get('x-supabase-api-version'), '2024-01-01', `${c.name}: version echoed`)
        t.match(response.headers.get('content-type'), /^application\/json/, `${c.name}: JSON`)
      }
    })

    t.test('the same requests without the version header get the initial format', async (t) => {
      for (const c of CASES) {
        const response = await send(c)
        const body = await response.json()
        t.equal(response.status, c.status, `${c.name}: status ${c.status}`)
        t.equal(body.code, c.status, `${c.name}: code is the status`)
        t.equal(body.error_code, c.code, `${c.name}: error_code`)
        if (c.message) t.match(body.msg, c.message, `${c.name}: msg`)
        t.equal(response.headers.get('x-sb-error-code'), c.code, `${c.name}: x-sb-error-code`)
        t.equal(response.headers.get('x-supabase-api-version'), null, `${c.name}: no version header`)
      }
    })

    t.test('the version header: only dates from 2024-01-01 select the new format', async (t) => {
      const c = CASES.find((c) => c.name === 'an unknown grant_type')!
      for (const [version, modern] of [['2024-01-01', true], ['2025-06-30', true], ['2023-12-31', false], ['yesterday', false], ['', false]] as const) {
        const response = await send(c, { 'x-supabase-api-version': version })
        const body = await response.json()
        t.equal(body.code, modern ? 'invalid_credentials' : 400, `"${version}": ${modern ? 'new' : 'initial'} format`)
        t.equal(response.headers.get('x-supabase-api-version'), modern ? '2024-01-01' : null, `"${version}": echoed only in the new format`)
      }
    })

    t.test('weak_password carries its reasons in both formats', async (t) => {
      const c = { path: '/signup', body: '{"email":"weak@example.com","password":"abc"}' }
      const modern = await (await send(c, V2024)).json()
      t.same(modern, { code: 'weak_password', error_code: 'weak_password', message: 'Password should be at least 6 characters.', msg: 'Password should be at least 6 characters.', weak_password: { reasons: ['length'] } })
      const initial = await (await send(c)).json()
      t.equal(initial.code, 422)
      t.same(initial.weak_password, { reasons: ['length'] })
    })

    t.test('/user: the middleware chain, in GoTrue order', async (t) => {
      const signup = await (await send({ path: '/signup', body: '{"email":"chain@example.com","password":"correct horse"}' }, V2024)).json()
      const token: string = signup.access_token
      t.ok(token, 'signed up')
      const user = (authorization?: string) => fetch(`${base}/user`, { headers: { apikey: server.anonKey, ...V2024, ...(authorization ? { authorization } : {}) } })
      const expectError = async (authorization: string | undefined, status: number, code: string, message: string | RegExp, name: string) => {
        const response = await user(authorization)
        const body = await response.json()
        t.equal(response.status, status, `${name}: ${status}`)
        t.equal(body.code, code, `${name}: ${code}`)
        t.match(body.message, message, `${name}: message`)
      }
      const ok = await user(`Bearer ${token}`)
      t.equal(ok.status, 200)
      t.equal((await ok.json()).email, 'chain@example.com', 'a bare user object')
      t.equal((await user(`bearer ${token}`)).status, 200, 'the scheme is case-insensitive')

      await expectError(undefined, 401, 'no_authorization', 'This endpoint requires a valid Bearer token', 'no header')
      await expectError(`Basic ${Buffer.from('a:b').toString('base64')}`, 401, 'no_authorization', 'This endpoint requires a valid Bearer token', 'basic auth')
      await expectError('Bearer', 401, 'no_authorization', 'This endpoint requires a valid Bearer token', 'an empty bearer')
      await expectError('Bearer garbage', 403, 'bad_jwt', /^invalid JWT: unable to parse or verify signature, /, 'garbage')
      await expectError(`Bearer ${server.anonKey}`, 403, 'bad_jwt', /^invalid JWT: /, 'the anon key')

      // Tokens signed with the server's own key, made by hand to reach each later check.
      const keys = await loadSigningKeys(server.config.dataDir)
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
      const sign = (payload: Record<string, unknown>, key = keys.privateKey, kid = keys.kid) =>
        new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' }).sign(key)
      const now = Math.floor(Date.now() / 1000)
      await expectError(`Bearer ${await sign({ ...claims, iat: now - 7200, exp: now - 3600 })}`, 403, 'bad_jwt', 'invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired', 'expired')
      const foreign = await generateKeyPair('ES256')
      await expectError(`Bearer ${await sign(claims, foreign.privateKey)}`, 403, 'bad_jwt', /^invalid JWT: unable to parse or verify signature, /, 'a foreign key with our kid')
      await expectError(`Bearer ${await sign(claims, foreign.privateKey, 'another-kid')}`, 403, 'bad_jwt', /^invalid JWT: /, 'a foreign key and kid')
      const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(32)))
      await expectError(`Bearer ${hs}`, 403, 'bad_jwt', /^invalid JWT: /, 'an HS256 token')
      const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${token.split('.')[1]}.`
      await expectError(`Bearer ${unsigned}`, 403, 'bad_jwt', /^invalid JWT: /, 'alg none')
      const { sub: _sub, ...noSub } = claims
      await expectError(`Bearer ${await sign(noSub)}`, 403, 'bad_jwt', 'invalid claim: missing sub claim', 'no sub')
      await expectError(`Bearer ${await sign({ ...claims, sub: 'alice' })}`, 400, 'bad_jwt', 'invalid claim: sub claim must be a UUID', 'a sub that is not a UUID')
      await expectError(`Bearer ${await sign({ ...claims, sub: crypto.randomUUID() })}`, 403, 'user_not_found', 'User from sub claim in JWT does not exist', 'an unknown user')
      await expectError(`Bearer ${await sign({ ...claims, session_id: crypto.randomUUID() })}`, 403, 'session_not_found', 'Session from session_id claim in JWT does not exist', 'an unknown session')
      const audience = await fetch(`${base}/user`, { headers: { ...V2024, authorization: `Bearer ${token}`, 'x-jwt-aud': 'somebody-else' } })
      t.equal(audience.status, 400, 'another audience')
      t.equal((await audience.json()).message, "Token audience doesn't match request audience")

      const logout = await fetch(`${base}/logout?scope=local`, { method: 'POST', headers: { ...V2024, ...JSON_TYPE, authorization: `Bearer ${token}` } })
      t.equal(logout.status, 204, 'logout is 204')
      t.equal(await logout.text(), '', 'with no body')
      await expectError(`Bearer ${token}`, 403, 'session_not_found', 'Session from session_id claim in JWT does not exist', 'after logout')
      const again = await fetch(`${base}/logout`, { method: 'POST', headers: { ...V2024, authorization: `Bearer ${token}` } })
      t.equal(again.status, 403, 'a second logout: the session is gone')
      t.equal(again.headers.get('x-sb-error-code'), 'session_not_found')
    })

    t.test('JWKS, discovery, settings and health', async (t) => {
      const first = await fetch(`${base}/.well-known/jwks.json`)
      t.equal(first.status, 200)
      t.equal(first.headers.get('cache-control'), 'public, max-age=600')
      const jwks = await first.json()
      t.equal(jwks.keys.length, 1, 'one key')
      const [key] = jwks.keys
      t.same(key.key_ops, ['verify'])
      t.equal(key.use, 'sig')
      t.equal(key.alg, 'ES256')
      t.equal(key.kty, 'EC')
      t.equal(key.crv, 'P-256')
      t.notOk('d' in key, 'no private part')
      const second = await (await fetch(`${base}/.well-known/jwks.json`)).json()
      t.equal(second.keys[0].kid, key.kid, 'a stable kid')
      const signup = await (await send({ path: '/signup', body: '{"email":"kid@example.com","password":"correct horse"}' })).json()
      const header = JSON.parse(Buffer.from(signup.access_token.split('.')[0], 'base64url').toString())
      t.equal(header.kid, key.kid, 'tokens name the published key')

      const discovery = await fetch(`${base}/.well-known/openid-configuration`)
      t.equal(discovery.headers.get('cache-control'), 'public, max-age=600')
      const openid = await discovery.json()
      t.equal(openid.issuer, base)
      t.equal(openid.jwks_uri, `${base}/.well-known/jwks.json`)

      const asked = await fetch(`${base}/settings`, { headers: V2024 })
      t.equal(asked.status, 200)
      t.equal(asked.headers.get('x-supabase-api-version'), null, 'a success does not echo the version header')
      const settings = await (await fetch(`${base}/settings`)).json()
      t.equal(settings.external.email, true)
      t.equal(settings.external.github, true)
      t.equal(settings.disable_signup, false)
      t.equal(settings.mailer_autoconfirm, true)
      const health = await (await fetch(`${base}/health`)).json()
      t.equal(health.name, 'GoTrue')
    })
  })
}

t.test('a configured anon key is required, as the gateway does, except where browsers go', async (t) => {
  const [backend] = backends()
  const server = await startTestServer(backend!, { SUPABASE_ANON_KEY: 'local-anon-key', AUTH_EXTERNAL_PROVIDERS: 'github' })
  t.teardown(() => server.dispose())
  const base = `${server.config.baseUrl}/auth/v1`
  const missing = await fetch(`${base}/settings`)
  t.equal(missing.status, 401)
  t.same(await missing.json(), { message: 'No API key found in request', hint: 'No `apikey` request header or url param was found.' })
  const wrong = await fetch(`${base}/settings`, { headers: { apikey: 'nope' } })
  t.equal(wrong.status, 401)
  t.equal((await fetch(`${base}/settings`, { headers: { apikey: 'local-anon-key' } })).status, 200, 'the header works')
  t.equal((await fetch(`${base}/settings?apikey=local-anon-key`)).status, 200, 'the query parameter works')
  const authorize = await fetch(`${base}/authorize?provider=github`, { redirect: 'manual' })
  t.equal(authorize.status, 302, '/authorize needs no key')
  t.equal((await fetch(`${base}/.well-known/jwks.json`)).status, 200, 'the JWKS is public, as on hosted Supabase')
  t.equal((await fetch(`${base}/.well-known/openid-configuration`)).status, 200, 'and so is discovery')
})

t.test('no route answers garbage with a 5xx', async (t) => {
  const [backend] = backends()
  const server = await startTestServer(backend!, { AUTH_EXTERNAL_PROVIDERS: 'github' })
  t.teardown(() => server.dispose())
  const base = `${server.config.baseUrl}/auth/v1`
  const routes = [
    ['POST', '/token?grant_type=password'], ['POST', '/token?grant_type=refresh_token'], ['POST', '/token?grant_type=pkce'],
    ['POST', '/signup'], ['GET', '/user'], ['POST', '/logout'], ['GET', '/authorize?provider=github'],
    ['GET', '/callback'], ['POST', '/callback'], ['GET', '/local-provider/authorize'], ['POST', '/local-provider/authorize'],
    ['GET', '/settings'], ['GET', '/health'], ['GET', '/.well-known/jwks.json'], ['PUT', '/user'], ['DELETE', '/token'],
  ]
  const bodies: [string, string | undefined][] = [
    ['application/json', undefined], ['application/json', ''], ['application/json', '{'], ['application/json', '[]'],
    ['application/json', '{"email":1e400,"password":{"a":[]},"refresh_token":12,"auth_code":null,"code_verifier":false,"data":"x"}'],
    ['application/json', '{"__proto__":{"admin":true},"constructor":{"prototype":{}}}'],
    ['application/x-www-form-urlencoded', 'state=a&state=b&code[]=x&redirect_uri=%00&email=%ff'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--'],
    ['application/json', JSON.stringify({ email: `${'a'.repeat(300)}@example.com`, password: 'é'.repeat(80) })],
  ]
  const queries = ['', '&state=a&state=b', '&redirect_to=javascript:alert(1)', '&code_challenge=%00&code_challenge_method=s256', '&provider[]=x', '&scope=global&scope=local']
  let requests = 0
  for (const [method, path] of routes) {
    for (const query of queries) {
      const url = `${base}${path}${path!.includes('?') ? query : query.replace(/^&/, '?')}`
      for (const [type, body] of method === 'GET' ? [['', undefined] as [string, undefined]] : bodies) {
        const response = await fetch(url, {
          method,
          redirect: 'manual',
          headers: { ...(type ? { 'content-type': type } : {}), authorization: 'Bearer x.y.z', 'x-supabase-api-version': '2024-01-01' },
          body,
        })
        requests++
        if (response.status >= 500) t.fail(`${method} ${url} (${type}) answered ${response.status}: ${await response.text()}`)
        else await response.arrayBuffer()
      }
    }
  }
  t.pass(`${requests} requests, none answered 5xx`)
})
