import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { Browser } from '../../scripts/lib/browser.ts'
import { formOf } from '../../scripts/lib/browser.ts'
import { TestOAuthProvider } from './helpers.ts'

/**
 * Walks the consent page of Supabase's OAuth server (the embedded auth's local consent page):
 * its authorize endpoint redirects there, the form takes email, password and a decision, and
 * the answer redirects on. Returns where that last redirect points.
 */
export async function consentAtSupabase(browser: Browser, authorizeUrl: string, email: string, password: string, action = 'approve'): Promise<URL> {
  const authorize = await browser.get(authorizeUrl)
  const consentUrl = authorize.headers.get('location')
  if (authorize.status !== 302 || !consentUrl) throw new Error(`Supabase's authorize answered ${authorize.status}: ${await authorize.text()}`)
  const page = await browser.get(new URL(consentUrl, authorizeUrl).toString())
  if (page.status !== 200) throw new Error(`the consent page answered ${page.status}`)
  const form = formOf(await page.text(), 'name="email"')
  const decided = await browser.post(new URL(form.action, authorizeUrl).toString(), { ...form.fields, email, password, action })
  const location = decided.headers.get('location')
  if (decided.status !== 302 || !location) throw new Error(`the consent form answered ${decided.status}`)
  return new URL(location, authorizeUrl)
}

/**
 * Our consent step, where users sign in elsewhere afterwards (OAUTH_UPSTREAM=supabase-oauth
 * or oidc): approves it and returns where the browser is sent to sign in.
 */
export async function approveOurConsent(browser: Browser, authorizeUrl: URL): Promise<string> {
  const page = await browser.get(authorizeUrl.toString())
  if (page.status !== 200) throw new Error(`our authorize answered ${page.status}: ${await page.text()}`)
  const consent = formOf(await page.text(), 'name="decision"')
  const approved = await browser.post(new URL(consent.action, authorizeUrl).toString(), { ...consent.fields, decision: 'approve' })
  const location = approved.headers.get('location')
  if (approved.status !== 303 || !location) throw new Error(`our consent answered ${approved.status}`)
  return location
}

/** The SDK client provider whose browser signs in at Supabase's OAuth server (OAUTH_UPSTREAM=delegate). */
export class SupabaseConsentProvider extends TestOAuthProvider {
  async redirectToAuthorization(url: URL) {
    const location = await consentAtSupabase(this.browser, url.toString(), this.user.email, this.user.password)
    this.lastRedirect = location
    this.consentShown = true
    if (location.searchParams.get('state') !== this.expectedState) throw new Error('state mismatch')
    const error = location.searchParams.get('error')
    if (error) throw new Error(`authorization failed: ${error}`)
    this.pendingCode = location.searchParams.get('code') ?? undefined
  }
}

/**
 * The SDK client provider for OAUTH_UPSTREAM=supabase-oauth: our consent step first, then
 * Supabase's consent page (`decision` there), then our /auth/callback, back to the client.
 * A refused request is kept in `lastRedirect` before the provider throws.
 */
export class ConsentThenSupabaseProvider extends TestOAuthProvider {
  supabaseDecision = 'approve'

  async redirectToAuthorization(url: URL) {
    const toSupabase = await approveOurConsent(this.browser, url)
    this.consentShown = true
    const callback = await consentAtSupabase(this.browser, toSupabase, this.user.email, this.user.password, this.supabaseDecision)
    const back = await this.browser.get(callback.toString())
    const location = back.headers.get('location')
    if (back.status !== 303 || !location) throw new Error(`our callback answered ${back.status}: ${await back.text()}`)
    this.lastRedirect = new URL(location)
    if (this.lastRedirect.searchParams.get('state') !== this.expectedState) throw new Error('state mismatch')
    const error = this.lastRedirect.searchParams.get('error')
    if (error) throw new Error(`authorization failed: ${error}`)
    this.pendingCode = this.lastRedirect.searchParams.get('code') ?? undefined
  }
}

/** Connects the SDK client with `provider`'s tokens over Streamable HTTP and asks `whoami`. */
export async function whoamiWith(provider: OAuthClientProvider, serverUrl: string): Promise<{ id: string; email: string; mode: string }> {
  const client = new Client({ name: 'upstream-test-client', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider }))
  try {
    const result: any = await client.callTool({ name: 'whoami', arguments: {} })
    return JSON.parse(result.content[0].text)
  } finally {
    await client.close()
  }
}
