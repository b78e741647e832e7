/**
 * A browser as far as the sign-in pages need one: it keeps cookies by hand, never follows
 * redirects by itself (the caller reads each Location) and submits forms as urlencoded posts.
 */
export class Browser {
  readonly cookies = new Map<string, string>()

  private remember(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const index = pair!.indexOf('=')
      this.cookies.set(pair!.slice(0, index).trim(), pair!.slice(index + 1).trim())
    }
  }

  private cookieHeader(): Record<string, string> {
    if (this.cookies.size === 0) return {}
    return { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') }
  }

  async get(url: string): Promise<Response> {
    const response = await fetch(url, { redirect: 'manual', headers: this.cookieHeader() })
    this.remember(response)
    return response
  }

  async post(url: string, form: Record<string, string>): Promise<Response> {
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    })
    this.remember(response)
    return response
  }
}

/** The hidden inputs and action of the form of a page that has `marker` in it (or the first). */
export function formOf(page: string, marker?: string): { action: string; fields: Record<string, string> } {
  const forms = [...page.matchAll(/<form method="post" action="([^"]*)">([\s\S]*?)<\/form>/g)]
  const form = marker ? forms.find((match) => match[2]!.includes(marker)) : forms[0]
  if (!form) throw new Error(`no form${marker ? ` with ${marker}` : ''} in the page`)
  const fields: Record<string, string> = {}
  for (const input of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[input[1]!] = decodeEntities(input[2]!)
  return { action: decodeEntities(form[1]!), fields }
}

export function decodeEntities(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
}
