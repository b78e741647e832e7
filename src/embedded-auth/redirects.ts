import { isIP } from 'node:net'

/** One step of an allow-list glob: a character, `?` (one), `*` (any run within a label) or `**` (any run). */
type GlobToken = { kind: 'char'; char: string } | { kind: 'one' } | { kind: 'label' } | { kind: 'any' }

function globTokens(glob: string): GlobToken[] {
  const tokens: GlobToken[] = []
  for (let i = 0; i < glob.length; i++) {
    if (glob[i] === '*' && glob[i + 1] === '*') {
      tokens.push({ kind: 'any' })
      i++
    } else if (glob[i] === '*') tokens.push({ kind: 'label' })
    else if (glob[i] === '?') tokens.push({ kind: 'one' })
    else tokens.push({ kind: 'char', char: glob[i]! })
  }
  return tokens
}

const inLabel = (char: string) => char !== '.' && char !== '/'

/**
 * GoTrue's allow-list glob against a whole URL, by following every position in the glob at
 * once: time grows with the URL's length times the glob's, never exponentially, so a long
 * `redirect_to` cannot stall the server as a backtracking regular expression could.
 */
export function globMatches(glob: string, text: string): boolean {
  const tokens = globTokens(glob)
  // Being before a star also means being after it (the star matched nothing).
  const close = (states: boolean[]) => {
    for (let i = 0; i < tokens.length; i++) if (states[i] && (tokens[i]!.kind === 'label' || tokens[i]!.kind === 'any')) states[i + 1] = true
    return states
  }
  let states = close(Object.assign(new Array<boolean>(tokens.length + 1).fill(false), { 0: true }))
  for (const char of text) {
    const next = new Array<boolean>(tokens.length + 1).fill(false)
    let alive = false
    for (let i = 0; i < tokens.length; i++) {
      if (!states[i]) continue
      const token = tokens[i]!
      if (token.kind === 'any' || (token.kind === 'label' && inLabel(char))) next[i] = alive = true
      else if ((token.kind === 'char' && token.char === char) || (token.kind === 'one' && inLabel(char))) next[i + 1] = alive = true
    }
    if (!alive) return false
    states = close(next)
  }
  return states[tokens.length]!
}

const isLoopbackHost = (hostname: string) => {
  const bare = hostname.replace(/^\[|\]$/g, '')
  return bare === 'localhost' || (isIP(bare) === 4 && bare.startsWith('127.')) || bare === '::1'
}

/**
 * GoTrue's rule for where a sign-in may send the browser back to: the site itself (any
 * port when it is localhost), a loopback address, or an entry of the allow-list.
 */
export function isRedirectAllowed(target: string, siteUrl: string, allowList: string[]): boolean {
  let url: URL
  try {
    url = new URL(target)
  } catch {
    return false
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:' && !allowList.length) return false
  if (url.username || url.password) return false
  const site = new URL(siteUrl)
  if (url.protocol === site.protocol && url.hostname === site.hostname && (url.port === site.port || isLoopbackHost(site.hostname))) return true
  if ((url.protocol === 'http:' || url.protocol === 'https:') && isIP(url.hostname.replace(/^\[|\]$/g, '')) && isLoopbackHost(url.hostname)) return true
  return allowList.some((entry) => globMatches(entry, target))
}

/** The redirect target GoTrue settles on: `redirect_to` if allowed, else the Referer, else the site. */
export function chooseRedirect(redirectTo: string | undefined, referer: string | undefined, siteUrl: string, allowList: string[]): string {
  if (redirectTo && isRedirectAllowed(redirectTo, siteUrl, allowList)) return redirectTo
  if (referer && isRedirectAllowed(referer, siteUrl, allowList)) return referer
  return siteUrl
}
