import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import Provider from 'oidc-provider'
import type { Browser } from '../../scripts/lib/browser.ts'
import { decodeEntities } from '../../scripts/lib/browser.ts'

/** A second client at the provider, with the same redirect URI: its codes are not ours. */
export const ANOTHER_CLIENT = 'another-app'

export interface TestAccount {
  email?: string
  email_verified?: boolean
}

export interface RunningProvider {
  issuer: string
  clientId: string
  clientSecret: string
  /** Accounts by login; the test adds and changes them between sign-ins. */
  accounts: Map<string, TestAccount>
  close(): Promise<void>
}

/**
 * A real OpenID Provider (node-oidc-provider) on loopback, with a confidential client for
 * the server under test (and `ANOTHER_CLIENT` beside it): authorization code with PKCE required, and its development sign-in
 * and consent pages, which `signInAtProvider` answers over HTTP. Any password is accepted for
 * a known login, as on those pages.
 */
export async function startOidcProvider(redirectUri: string, options: { clientSecret?: string } = {}): Promise<RunningProvider> {
  const accounts = new Map<string, TestAccount>()
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const clientId = 'atoms-mcp'
  const clientSecret = options.clientSecret ?? 'a-client-secret-only-the-test-knows'
  const provider = new Provider(issuer, {
    clients: [clientId, ANOTHER_CLIENT].map((id) => ({
      client_id: id,
      client_secret: id === clientId ? clientSecret : 'the-other-clients-secret',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })),
    pkce: { required: () => true },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['a-cookie-key-only-the-test-knows'] },
    async findAccount(_ctx, id) {
      const account = accounts.get(id)
      if (!account) return undefined
      return { accountId: id, claims: async () => ({ sub: id, ...account }) }
    },
  })
  server.on('request', provider.callback())
  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/**
 * Walks the provider's development pages from its authorization URL: signs in as `login`,
 * consents, and returns where the provider finally sends the browser (our callback, with
 * `code` or `error`). `abort` answers the sign-in page with its "cancel" link instead.
 */
export async function signInAtProvider(browser: Browser, authorizationUrl: string, login: string, options: { abort?: boolean } = {}): Promise<URL> {
  let url = authorizationUrl
  const origin = new URL(authorizationUrl).origin
  for (let step = 0; step < 12; step++) {
    const response = await browser.get(url)
    const location = response.headers.get('location')
    if (location) {
      const next = new URL(location, url)
      if (next.origin !== origin) return next
      url = next.toString()
      continue
    }
    const page = await response.text()
    if (response.status !== 200) throw new Error(`the provider answered ${response.status}: ${page.slice(0, 300)}`)
    if (options.abort) {
      url = new URL(`${new URL(url).pathname}/abort`, origin).toString()
      continue
    }
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1]
    const prompt = /name="prompt" value="([^"]+)"/.exec(page)?.[1]
    if (!action || !prompt) throw new Error(`no form on the provider's page: ${page.slice(0, 300)}`)
    const answered = await browser.post(new URL(decodeEntities(action), origin).toString(), prompt === 'login' ? { prompt, login, password: 'any' } : { prompt })
    const after = answered.headers.get('location')
    if (!after) throw new Error(`the provider's ${prompt} form answered ${answered.status}`)
    const next = new URL(after, url)
    if (next.origin !== origin) return next
    url = next.toString()
  }
  throw new Error('the provider never sent the browser back')
}
