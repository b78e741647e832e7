import t from 'tap'
import { completeFlow, FlowStepError, obtainCode, pkce, redeemCode, refreshTokens, registerClient } from '../../scripts/lib/oauth-flow.ts'
import { callTool } from '../../scripts/lib/mcp-call.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { signUp } from './helpers.ts'

const USER = { email: 'grace@example.com', password: 'a long enough secret' }

/** The FlowStepError a promise rejects with, or a failure when it resolves or throws anything else. */
async function stepError(promise: Promise<unknown>): Promise<FlowStepError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  if (!(error instanceof FlowStepError)) throw new Error(`expected a FlowStepError, got ${String(error)}`)
  return error
}

// The headless client the bench, the soak and the multi-instance tests drive flows with.
for (const backend of backends()) {
  t.test(`the headless OAuth client on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_MODE: 'oauth' })
    t.teardown(() => server.dispose())
    const base = server.config.baseUrl
    const userId = await signUp(server, USER.email, USER.password)

    const flow = await completeFlow(base, USER, { resource: `${base}/mcp` })
    t.ok(flow.consentShown, 'a new client is asked for consent')
    const me = await callTool(base, flow.tokens.access_token, 'whoami')
    t.equal(me.value?.id, userId, 'the access token is the user')
    t.equal(me.value?.mode, 'oauth')
    const refreshed = await refreshTokens(base, flow.clientId, flow.tokens.refresh_token)
    t.not(refreshed.refresh_token, flow.tokens.refresh_token, 'a refresh rotates the refresh token')

    const wrongPassword = await stepError(completeFlow(base, { ...USER, password: 'not the password' }))
    t.equal(wrongPassword.step, 'sign-in', 'a refused sign-in names its step')
    t.equal(wrongPassword.status, 400)
    t.match(wrongPassword.body, /Incorrect email or password/)
    t.match(wrongPassword.message, /sign-in step answered 400/)

    const returning = await obtainCode(base, flow.clientId, USER)
    t.notOk(returning.consentShown, 'a returning client is not asked again')
    const wrongVerifier = await stepError(redeemCode(base, { clientId: flow.clientId, code: returning.code, verifier: pkce().verifier }))
    t.equal(wrongVerifier.step, 'token', 'a code with the wrong verifier fails at the token step')
    t.equal(wrongVerifier.status, 400)
    t.match(wrongVerifier.body, /invalid_grant/)

    const refused = await stepError(registerClient(base, { redirect_uris: ['http://example.com/callback'] }))
    t.equal(refused.step, 'register')
    t.equal(refused.status, 400)
    t.match(refused.body, /invalid_redirect_uri/)

    const unknown = await stepError(obtainCode(base, 'no-such-client', USER))
    t.equal(unknown.step, 'authorize', 'an unknown client fails at the authorize step')
    t.equal(unknown.status, 400)
  })
}
