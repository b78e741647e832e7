import { createHash, randomBytes } from 'node:crypto'
import { Browser } from './browser.ts'
import type { TestServer } from '../helpers/server.ts'
import { REDIRECT_URI, signInThroughPages } from './helpers.ts'

export const pkce = () => {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

export async function register(server: TestServer, metadata: Record<string, unknown> = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${server.config.baseUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Manual client', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], ...metadata }),
  })
  return { status: response.status, body: await response.json() }
}

export function authorizeUrl(server: TestServer, params: Record<string, string | undefined>): string {
  const url = new URL(`${server.config.baseUrl}/authorize`)
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value)
  return url.toString()
}

export async function token(server: TestServer, form: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.config.baseUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  })
  return { status: response.status, headers: response.headers, body: (await response.json()) as any }
}

/** A full authorization up to the code, for a registered public client. */
export async function obtainCode(server: TestServer, clientId: string, user: { email: string; password: string }, browser = new Browser()) {
  const { verifier, challenge } = pkce()
  const outcome = await signInThroughPages(
    browser,
    authorizeUrl(server, {
      response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256',
      state: 'xyz', resource: `${server.config.baseUrl}/mcp`,
    }),
    user.email,
    user.password,
  )
  const code = outcome.location.searchParams.get('code')
  if (!code) throw new Error(`no code: ${outcome.location}`)
  return { code, verifier, browser }
}
