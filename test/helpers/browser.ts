/**
 * What a browser does between `signInWithOAuth` and the app's redirect target, done with
 * plain fetch: follow each redirect by hand, and submit the local sign-in page's form
 * the way a browser submits it.
 */

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" }
const unescape = (value: string) => value.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]!)

export interface HtmlForm {
  action: string
  method: string
  fields: Record<string, string>
}

/** Reads the first `<form>` of a page: its action, its method and its hidden inputs. */
export function readForm(page: string, baseUrl: string): HtmlForm {
  const form = /<form\b([^>]*)>/i.exec(page)
  if (!form) throw new Error(`no form in the page:\n${page}`)
  const attribute = (tag: string, name: string) => {
    const match = new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(tag)
    return match ? unescape(match[1]!) : undefined
  }
  const fields: Record<string, string> = {}
  for (const input of page.matchAll(/<input\b[^>]*>/gi)) {
    const tag = input[0]
    if (attribute(tag, 'type') !== 'hidden') continue
    const name = attribute(tag, 'name')
    if (name) fields[name] = attribute(tag, 'value') ?? ''
  }
  return {
    action: new URL(attribute(form[1]!, 'action') ?? '', baseUrl).toString(),
    method: (attribute(form[1]!, 'method') ?? 'get').toLowerCase(),
    fields,
  }
}

export async function expectRedirect(response: Response): Promise<string> {
  const location = response.headers.get('location')
  if (response.status !== 302 || !location) {
    throw new Error(`expected a 302 redirect, got ${response.status}: ${await response.text()}`)
  }
  return new URL(location, response.url).toString()
}

export interface SignInSteps {
  /** The local provider page `/authorize` sent the browser to. */
  providerPage: string
  /** The `/callback` URL the provider page sent the browser back to. */
  callback: string
  /** Where `/callback` finally sent the browser: the app's `redirectTo` with a code or tokens. */
  final: string
}

/**
 * Plays the browser from the authorize URL to the app: `/authorize` redirects to the local
 * provider page, whose form is posted as a browser would, which redirects to `/callback`,
 * which redirects to the app.
 */
export async function signInThroughBrowser(authorizeUrl: string, account: { email: string; name?: string }): Promise<SignInSteps> {
  const providerPage = await expectRedirect(await fetch(authorizeUrl, { redirect: 'manual' }))
  const page = await fetch(providerPage, { redirect: 'manual' })
  if (page.status !== 200) throw new Error(`provider page answered ${page.status}: ${await page.text()}`)
  const form = readForm(await page.text(), providerPage)
  const body = new URLSearchParams({ ...form.fields, email: account.email, name: account.name ?? '', action: 'approve' })
  const posted = await fetch(form.action, {
    method: form.method.toUpperCase(),
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  })
  const callback = await expectRedirect(posted)
  const final = await expectRedirect(await fetch(callback, { redirect: 'manual' }))
  return { providerPage, callback, final }
}

/** A storage object supabase-js can keep its session and PKCE verifier in, shared by clients. */
export function memoryStorage() {
  const items = new Map<string, string>()
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  }
}
