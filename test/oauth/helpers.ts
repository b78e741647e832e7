import { randomBytes } from 'node:crypto'
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js'
import { createClient } from '@supabase/supabase-js'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { Browser } from '../../scripts/lib/browser.ts'
import { REDIRECT_URI, signInThroughPages } from '../../scripts/lib/oauth-flow.ts'
import type { TestServer } from '../helpers/server.ts'

export { REDIRECT_URI, signInThroughPages }

/** Signs a user up against the embedded auth with supabase-js. */
export async function signUp(server: Pick<TestServer, 'config' | 'anonKey'>, email: string, password: string): Promise<string> {
  const supabase = createClient(server.config.baseUrl, server.anonKey, { auth: { persistSession: false, autoRefreshToken: false } })
  const { data, error } = await supabase.auth.signUp({ email, password })
  if (error || !data.user) throw new Error(`sign-up failed: ${error?.message}`)
  return data.user.id
}

/** Asks the embedded auth who an access token belongs to, as any Supabase client would. */
export async function supabaseUser(server: TestServer, accessToken: string): Promise<{ status: number; email?: string; id?: string }> {
  const response = await fetch(`${server.config.baseUrl}/auth/v1/user`, { headers: { apikey: server.anonKey, authorization: `Bearer ${accessToken}` } })
  const body: any = await response.json().catch(() => ({}))
  return { status: response.status, email: body.email, id: body.id }
}

/**
 * Whose Supabase session an access token of AUTH_MODE=oauth stands for, and whether it is
 * still alive, as `supabaseUser` answers: 200 with the user, 403 once it ended. A token of
 * ours is no Supabase token: its session is looked up by the `session_id` it carries, in
 * the database of `auth` (the server whose embedded auth holds the sessions).
 */
export async function sessionUser(auth: TestServer, accessToken: string): Promise<{ status: number; email?: string; id?: string }> {
  if (decodeProtectedHeader(accessToken).typ !== 'at+jwt') return supabaseUser(auth, accessToken)
  const claims = decodeJwt(accessToken)
  const { rows } = await auth.db.query('select 1 from embedded_auth.sessions where id = $1', [claims.session_id])
  return rows.length === 1 ? { status: 200, id: claims.sub, email: claims.email as string } : { status: 403 }
}

/**
 * The client side as MCP clients ship it: an OAuthClientProvider for the SDK's `auth()`,
 * whose "browser" signs in through the server's pages.
 */
export class TestOAuthProvider implements OAuthClientProvider {
  information: OAuthClientInformationMixed | undefined
  stored: OAuthTokens | undefined
  verifier: string | undefined
  expectedState: string | undefined
  pendingCode: string | undefined
  lastRedirect: URL | undefined
  consentShown: boolean | undefined
  readonly browser = new Browser()
  readonly user: { email: string; password: string }
  readonly metadataUrl: string | undefined
  readonly metadata: Partial<OAuthClientMetadata>

  constructor(user: { email: string; password: string }, options: { metadataUrl?: string; metadata?: Partial<OAuthClientMetadata> } = {}) {
    this.user = user
    this.metadataUrl = options.metadataUrl
    this.metadata = options.metadata ?? {}
  }
  get redirectUrl() {
    return REDIRECT_URI
  }
  get clientMetadataUrl() {
    return this.metadataUrl
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'Test MCP client',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...this.metadata,
    }
  }
  state() {
    this.expectedState = randomBytes(16).toString('base64url')
    return this.expectedState
  }
  clientInformation() {
    return this.information
  }
  saveClientInformation(information: OAuthClientInformationMixed) {
    this.information = information
  }
  tokens() {
    return this.stored
  }
  saveTokens(tokens: OAuthTokens) {
    this.stored = tokens
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier
  }
  codeVerifier() {
    if (!this.verifier) throw new Error('no code verifier saved')
    return this.verifier
  }
  async redirectToAuthorization(url: URL) {
    const outcome = await signInThroughPages(this.browser, url.toString(), this.user)
    this.lastRedirect = outcome.location
    this.consentShown = outcome.consentShown
    if (outcome.location.searchParams.get('state') !== this.expectedState) throw new Error('state mismatch')
    const error = outcome.location.searchParams.get('error')
    if (error) throw new Error(`authorization failed: ${error}`)
    this.pendingCode = outcome.location.searchParams.get('code') ?? undefined
  }
}
