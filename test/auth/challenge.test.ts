import t from 'tap'
import { bearerChallenge } from '../../src/auth/challenge.ts'
import { bearerTokenFrom } from '../../src/auth/bearer-token.ts'
import { InsufficientScopeError, InvalidTokenError, UpstreamUnavailableError } from '../../src/auth/errors.ts'

t.test('WWW-Authenticate values (RFC 6750 §3)', async (t) => {
  t.equal(bearerChallenge(undefined), 'Bearer realm="atoms-mcp"')
  t.equal(bearerChallenge(new InvalidTokenError('no token', false)), 'Bearer realm="atoms-mcp"', 'no error code when no token was sent')
  t.equal(
    bearerChallenge(new InvalidTokenError('the access token has expired')),
    'Bearer realm="atoms-mcp", error="invalid_token", error_description="the access token has expired"',
  )
  t.equal(
    bearerChallenge(new InsufficientScopeError(['entities:read', 'entities:write'])),
    'Bearer realm="atoms-mcp", error="insufficient_scope", error_description="this request needs the scopes entities:read entities:write", scope="entities:read entities:write"',
  )
  t.equal(
    bearerChallenge(new InvalidTokenError('expired'), { resource_metadata: 'https://mcp.example/.well-known/oauth-protected-resource' }),
    'Bearer realm="atoms-mcp", resource_metadata="https://mcp.example/.well-known/oauth-protected-resource", error="invalid_token", error_description="expired"',
    'extra params from the mode come after the realm',
  )
  t.equal(bearerChallenge(new UpstreamUnavailableError('down')), 'Bearer realm="atoms-mcp"', 'an outage judges no token')
})

t.test('descriptions cannot break out of their quotes', async (t) => {
  const hostile = bearerChallenge(new InvalidTokenError('a "quoted" \\ back\r\nSet-Cookie: x=1 é'))
  t.equal(hostile, 'Bearer realm="atoms-mcp", error="invalid_token", error_description="a quoted  backSet-Cookie: x=1 "')
  const long = bearerChallenge(new InvalidTokenError('x'.repeat(1000)))
  t.ok(long.length < 400, 'descriptions are bounded')
})

t.test('bearer tokens from the Authorization header', async (t) => {
  t.equal(bearerTokenFrom('Bearer abc.def.ghi'), 'abc.def.ghi')
  t.equal(bearerTokenFrom('bearer   abc.def.ghi  '), 'abc.def.ghi', 'the scheme is case-insensitive')
  t.equal(bearerTokenFrom(['Bearer one', 'Bearer two']), 'one')
  for (const absent of [undefined, '', 'Basic dXNlcjpwYXNz', 'Bearertoken']) {
    const error = t.throws(() => bearerTokenFrom(absent)) as unknown as InvalidTokenError
    t.equal(error.tokenPresented, false, `${JSON.stringify(absent)}: no token presented`)
  }
  for (const malformed of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer a"b']) {
    const error = t.throws(() => bearerTokenFrom(malformed)) as unknown as InvalidTokenError
    t.equal(error.tokenPresented, true, `${JSON.stringify(malformed)}: a malformed token`)
  }
})
