/**
 * A public OAuth client of AUTH_MODE=oauth with no browser, for scripts and tests: dynamic
 * registration, /authorize through the sign-in and consent pages, the code redeemed with
 * PKCE at /token, and refresh. Every step can go to its own base URL, so that
 * one flow can hop between the instances of a cluster. A step that answers otherwise than
 * it should throws a FlowStepError naming the step, its status and its body.
 */
import { createHash, randomBytes } from 'node:crypto'
import { Browser, formOf } from './browser.ts'

/** A loopback redirect URI nothing listens on: the code is read from the Location header. */
export const REDIRECT_URI = 'http://127.0.0.1:8976/callback'

export type FlowStep = 'register' | 'authorize' | 'sign-in' | 'consent' | 'token' | 'refresh'

/** Where the steps go: one base URL for all of them, or one chosen per step. */
export type StepTargets = string | ((step: FlowStep) => string)

const baseFor = (targets: StepTargets, step: FlowStep): string => (typeof targets === 'string' ? targets : targets(step))

export class FlowStepError extends Error {
  readonly step: FlowStep
  readonly status: number
  readonly body: string
  constructor(step: FlowStep, status: number, body: string) {
    super(`OAuth ${step} step answered ${status}: ${body.slice(0, 500)}`)
    this.name = 'FlowStepError'
    this.step = step
    this.status = status
    this.body = body
  }
}

export interface Credentials {
  email: string
  password: string
}

export interface TokenSet {
  access_token: string
  refresh_token: string
  token_type: string
  expires_in: number
  scope?: string
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/** The metadata of a public client (no secret, PKCE only) redirecting to REDIRECT_URI. */
export const PUBLIC_CLIENT_METADATA = {
  client_name: 'Headless OAuth client',
  redirect_uris: [REDIRECT_URI],
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
}

async function readBody(response: Response): Promise<{ text: string; json: any }> {
  const text = await response.text()
  try {
    return { text, json: JSON.parse(text) }
  } catch {
    return { text, json: undefined }
  }
}

/** POST /register as it is, whatever the answer (tests of refusals read the status). */
export async function postRegistration(base: string, metadata: Record<string, unknown> = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...PUBLIC_CLIENT_METADATA, ...metadata }),
  })
  const { text, json } = await readBody(response)
  return { status: response.status, body: json ?? text }
}

/** POST /token as it is, whatever the answer. */
export async function postToken(base: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  })
  const { text, json } = await readBody(response)
  return { status: response.status, headers: response.headers, body: json ?? text }
}

/** Registers a client (public unless `metadata` says otherwise) and returns what /register answered. */
export async function registerClient(targets: StepTargets, metadata: Record<string, unknown> = {}): Promise<{ client_id: string; [field: string]: unknown }> {
  const { status, body } = await postRegistration(baseFor(targets, 'register'), metadata)
  if (status !== 201 || typeof body?.client_id !== 'string') throw new FlowStepError('register', status, JSON.stringify(body))
  return body
}

export function authorizeUrl(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(`${base}/authorize`)
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value)
  return url.toString()
}

export interface SignInOutcome {
  /** Where the last redirect pointed (the client's redirect URI with code or error). */
  location: URL
  /** The step that sent the browser there, and its status. */
  redirectedBy: 'authorize' | 'sign-in' | 'consent'
  status: number
  consentShown: boolean
}

/** `url` with its origin replaced by `base`'s: the pages name the public URL, the step goes to one instance. */
function rebase(url: URL, base: string | undefined): string {
  return base ? new URL(`${url.pathname}${url.search}`, base).toString() : url.toString()
}

/** The form of the page a step answered with, or a FlowStepError naming the step when the page has none. */
async function formIn(step: 'authorize' | 'sign-in', page: Response, marker: string) {
  const text = await page.text()
  try {
    return formOf(text, marker)
  } catch {
    throw new FlowStepError(step, page.status, `a page without a form with ${marker}: ${text}`)
  }
}

/**
 * Walks the pages a browser sees for `authorizeUrl`: the email-and-password form (its
 * handle and CSRF fields, with the cookie the page set), then `decision` on the consent page
 * when it is shown. Form posts go where the page's form points, or to `on(step)` when given.
 */
export async function signInThroughPages(
  browser: Browser,
  authorizeUrl: string,
  user: Credentials,
  options: { decision?: string; on?: (step: 'sign-in' | 'consent') => string } = {},
): Promise<SignInOutcome> {
  const page = await browser.get(authorizeUrl)
  if (page.status !== 200) {
    const location = page.headers.get('location')
    if (location && page.status >= 300 && page.status < 400) return { location: new URL(location), redirectedBy: 'authorize', status: page.status, consentShown: false }
    throw new FlowStepError('authorize', page.status, await page.text())
  }
  const origin = new URL(authorizeUrl).origin
  const signInForm = await formIn('authorize', page, 'name="email"')
  const signedIn = await browser.post(rebase(new URL(signInForm.action, origin), options.on?.('sign-in')), { ...signInForm.fields, email: user.email, password: user.password })
  if (signedIn.status === 303) return { location: new URL(signedIn.headers.get('location')!), redirectedBy: 'sign-in', status: 303, consentShown: false }
  if (signedIn.status !== 200) throw new FlowStepError('sign-in', signedIn.status, await signedIn.text())
  const consent = await formIn('sign-in', signedIn, 'name="decision"')
  const decided = await browser.post(rebase(new URL(consent.action, origin), options.on?.('consent')), { ...consent.fields, decision: options.decision ?? 'approve' })
  if (decided.status !== 303) throw new FlowStepError('consent', decided.status, await decided.text())
  return { location: new URL(decided.headers.get('location')!), redirectedBy: 'consent', status: 303, consentShown: true }
}

export interface CodeOptions {
  /** RFC 8707 resource: the public URL of the MCP endpoint (none is sent when unset). */
  resource?: string
  state?: string
  redirectUri?: string
  browser?: Browser
  /** The scope asked for (none is sent when unset). */
  scope?: string
}

/** An authorization up to the code, for a registered public client, approving consent when asked. */
export async function obtainCode(targets: StepTargets, clientId: string, user: Credentials, options: CodeOptions = {}) {
  const { verifier, challenge } = pkce()
  const browser = options.browser ?? new Browser()
  const state = options.state ?? randomBytes(8).toString('base64url')
  const url = authorizeUrl(baseFor(targets, 'authorize'), {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: options.redirectUri ?? REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    resource: options.resource,
    scope: options.scope,
  })
  const outcome = await signInThroughPages(browser, url, user, { on: (step) => baseFor(targets, step) })
  const code = outcome.location.searchParams.get('code')
  if (!code || outcome.location.searchParams.get('state') !== state) {
    throw new FlowStepError(outcome.redirectedBy, outcome.status, `redirected without a code for this request to ${outcome.location}`)
  }
  return { code, verifier, browser, consentShown: outcome.consentShown }
}

async function tokenStep(step: 'token' | 'refresh', base: string, form: Record<string, string>): Promise<TokenSet> {
  const { status, body } = await postToken(base, form)
  if (status !== 200 || typeof body?.access_token !== 'string') throw new FlowStepError(step, status, typeof body === 'string' ? body : JSON.stringify(body))
  return body
}

/** The code redeemed at /token with its PKCE verifier. */
export function redeemCode(targets: StepTargets, grant: { clientId: string; code: string; verifier: string; redirectUri?: string }): Promise<TokenSet> {
  return tokenStep('token', baseFor(targets, 'token'), {
    grant_type: 'authorization_code',
    code: grant.code,
    code_verifier: grant.verifier,
    redirect_uri: grant.redirectUri ?? REDIRECT_URI,
    client_id: grant.clientId,
  })
}

/** A refresh at /token: the new pair (the refresh token rotates). */
export function refreshTokens(targets: StepTargets, clientId: string, refreshToken: string): Promise<TokenSet> {
  return tokenStep('refresh', baseFor(targets, 'refresh'), { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId })
}

/** A whole flow as a new MCP client makes it: register, authorize, sign in, consent, token. */
export async function completeFlow(targets: StepTargets, user: Credentials, options: CodeOptions & { metadata?: Record<string, unknown> } = {}) {
  const client = await registerClient(targets, options.metadata)
  const { code, verifier, consentShown } = await obtainCode(targets, client.client_id, user, options)
  const tokens = await redeemCode(targets, { clientId: client.client_id, code, verifier, redirectUri: options.redirectUri })
  return { clientId: client.client_id, tokens, consentShown }
}
