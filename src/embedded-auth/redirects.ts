import { isIP } from 'node:net'

function globToRegExp(glob: string): RegExp {
  let pattern = ''
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!
    if (ch === '*' && glob[i + 1] === '*') {
      pattern += '.*'
      i++
    } else if (ch === '*') {
      pattern += '[^./]*'
    } else if (ch === '?') {
      pattern += '[^./]'
    } else {
      pattern += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')
    }
  }
  return new RegExp(`^${pattern}$`)
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
  return allowList.some((entry) => globToRegExp(entry).test(target))
}

/** The redirect target GoTrue settles on: `redirect_to` if allowed, else the Referer, else the site. */
export function chooseRedirect(redirectTo: string | undefined, referer: string | undefined, siteUrl: string, allowList: string[]): string {
  if (redirectTo && isRedirectAllowed(redirectTo, siteUrl, allowList)) return redirectTo
  if (referer && isRedirectAllowed(referer, siteUrl, allowList)) return referer
  return siteUrl
}
