import type { Browser } from './browser.ts'
import { formOf } from './browser.ts'
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
