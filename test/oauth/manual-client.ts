import type { Browser } from '../../scripts/lib/browser.ts'
import * as flow from '../../scripts/lib/oauth-flow.ts'
import type { TestServer } from '../helpers/server.ts'

// The headless client of scripts/lib/oauth-flow.ts, aimed at one test server.
export const pkce = flow.pkce

export function register(server: TestServer, metadata: Record<string, unknown> = {}): Promise<{ status: number; body: any }> {
  return flow.postRegistration(server.config.baseUrl, { client_name: 'Manual client', ...metadata })
}

export function authorizeUrl(server: TestServer, params: Record<string, string | undefined>): string {
  return flow.authorizeUrl(server.config.baseUrl, params)
}

export function token(server: TestServer, form: Record<string, string>, headers: Record<string, string> = {}) {
  return flow.postToken(server.config.baseUrl, form, headers)
}

/** A full authorization up to the code, for a registered public client. */
export function obtainCode(server: TestServer, clientId: string, user: { email: string; password: string }, browser?: Browser, scope?: string) {
  const base = server.config.baseUrl
  return flow.obtainCode(base, clientId, user, { browser, state: 'xyz', resource: `${base}/mcp`, scope })
}

/** POST /revoke (RFC 7009) as a public client: the status. */
export async function revoke(server: TestServer, clientId: string, value: string): Promise<number> {
  const response = await fetch(`${server.config.baseUrl}/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: value, client_id: clientId }),
  })
  return response.status
}
