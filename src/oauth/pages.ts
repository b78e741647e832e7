import { html, page, type SafeHtml } from '../http/html.ts'
import { SCOPE_DESCRIPTIONS } from './scopes.ts'

export interface PageClient {
  clientId: string
  name: string | undefined
  redirectUri: string
  /** True for a Client ID Metadata Document: its name comes from the host it names. */
  verifiedHost: boolean
}

export interface SignInPageModel {
  client: PageClient
  handle: string
  csrf: string
  actions: { signIn: string; decision: string; provider: string }
  providers: string[]
  email?: string
  error?: string
}

export interface ConsentPageModel {
  client: PageClient
  handle: string
  csrf: string
  decisionAction: string
  userEmail: string | undefined
  scope: string
}

/** How the page names the redirect target: scheme and host, never a path a client chose. */
export function redirectHost(uri: string): string {
  const url = new URL(uri)
  return url.host ? `${url.protocol}//${url.host}` : url.protocol
}

const PROVIDER_LABELS: Record<string, string> = { github: 'GitHub', google: 'Google', gitlab: 'GitLab', azure: 'Microsoft', linkedin_oidc: 'LinkedIn' }
const providerLabel = (provider: string) => PROVIDER_LABELS[provider] ?? provider.charAt(0).toUpperCase() + provider.slice(1)

function clientLine(client: PageClient): SafeHtml {
  const name = client.name ?? 'An application without a name'
  const origin = client.verifiedHost ? html` <span class="note">(described by ${new URL(client.clientId).host})</span>` : html` <span class="note">(name given by the application, not verified)</span>`
  return html`<p><strong class="client">${name}</strong>${origin}
wants to use atoms-mcp. You will be sent back to <strong>${redirectHost(client.redirectUri)}</strong>.</p>`
}

export function signInPage(model: SignInPageModel): string {
  const providerLinks = model.providers.map((provider) => {
    const href = `${model.actions.provider}?${new URLSearchParams({ handle: model.handle, provider, csrf: model.csrf })}`
    return html`<p><a class="provider" href="${href}">Continue with ${providerLabel(provider)}</a></p>`
  })
  return page(
    'Sign in to atoms-mcp',
    html`<h1>Sign in to atoms-mcp</h1>
${clientLine(model.client)}
${model.error ? html`<p class="error" role="alert">${model.error}</p>` : ''}
<form method="post" action="${model.actions.signIn}">
<input type="hidden" name="handle" value="${model.handle}">
<input type="hidden" name="csrf" value="${model.csrf}">
<label for="email">Email</label><input id="email" name="email" type="email" required autocomplete="email" value="${model.email ?? ''}">
<label for="password">Password</label><input id="password" name="password" type="password" required autocomplete="current-password">
<div class="row"><button type="submit">Sign in</button></div>
</form>
${providerLinks}
<form method="post" action="${model.actions.decision}">
<input type="hidden" name="handle" value="${model.handle}">
<input type="hidden" name="csrf" value="${model.csrf}">
<div class="row"><button type="submit" name="decision" value="deny" class="secondary">Cancel</button></div>
</form>`,
  )
}

/** What the grant lets the client do, in the user's words; a read-only grant says so. */
function scopeList(scope: string): SafeHtml {
  const scopes = scope.split(' ').filter(Boolean)
  const lines = [...new Set(scopes.map((name) => SCOPE_DESCRIPTIONS[name] ?? name))]
  const readOnly = scopes.includes('atoms:read') && !scopes.includes('atoms:write')
  return html`<p>As you, it may:</p>
<ul class="scopes">${lines.map((line) => html`<li>${line}</li>`)}</ul>
${readOnly ? html`<p>It cannot change anything.</p>` : ''}`
}

export function consentPage(model: ConsentPageModel): string {
  const name = model.client.name ?? 'An application without a name'
  return page(
    'Allow access to atoms-mcp',
    html`<h1>Allow access?</h1>
<p><strong class="client">${name}</strong> wants to use atoms-mcp as <strong>${model.userEmail ?? 'you'}</strong>.</p>
${clientLine(model.client)}
${scopeList(model.scope)}
<p class="note">Scopes: ${model.scope}. Client id: ${model.client.clientId}</p>
<form method="post" action="${model.decisionAction}">
<input type="hidden" name="handle" value="${model.handle}">
<input type="hidden" name="csrf" value="${model.csrf}">
<div class="row"><button type="submit" name="decision" value="deny" class="secondary">Deny</button><button type="submit" name="decision" value="approve">Approve</button></div>
</form>`,
  )
}

export function errorPage(title: string, message: string): string {
  return page(title, html`<h1>${title}</h1><p class="error" role="alert">${message}</p>
<p class="note">This request cannot be sent back to the application. Close this window and connect again from the application.</p>`)
}
