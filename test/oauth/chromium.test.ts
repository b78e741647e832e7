import t from 'tap'
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { chromium } from 'playwright-core'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { signUp } from './helpers.ts'
import { authorizeUrl, pkce, register, token } from './manual-client.ts'

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path))
const NAME = '<img src=x onerror=alert(1)> Claude "Code"'

t.test('a headless Chromium walks sign-in and consent to the client redirect', { skip: CHROMIUM ? false : 'Debian package chromium is not installed' }, async (t) => {
  const server = await startTestServer(backends()[0]!, { AUTH_MODE: 'oauth' })
  t.teardown(() => server.dispose())
  await signUp(server, 'margaret@example.com', 'a long enough secret')
  // The client's loopback redirect target, on a port chosen at run time as native apps do.
  let landed: URL | undefined
  const target = createServer((request, response) => {
    const url = new URL(request.url ?? '/', REDIRECT_URI)
    // Chromium asks for /favicon.ico too; only the callback counts.
    if (url.pathname === '/callback') landed = url
    response.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this window.')
  })
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => target.close(resolve)))
  const REDIRECT_URI = `http://127.0.0.1:${(target.address() as AddressInfo).port}/callback`
  const client = (await register(server, { client_name: NAME, redirect_uris: ['http://127.0.0.1/callback'] })).body
  const { verifier, challenge } = pkce()

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  const dialogs: string[] = []
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message())
    void dialog.dismiss()
  })

  const response = await page.goto(authorizeUrl(server, {
    response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256',
    state: 'chromium', resource: `${server.config.baseUrl}/mcp`,
  }))
  t.equal(response?.status(), 200)
  const csp = response?.headers()['content-security-policy'] ?? ''
  t.match(csp, /default-src 'none'/, 'the page is served with a strict CSP')
  t.match(csp, /frame-ancestors 'none'/)
  t.equal(await page.locator('strong.client').first().textContent(), NAME, 'the client name is shown as text, escaped')
  t.equal(await page.locator('img').count(), 0, 'no markup from the client name became an element')

  await page.fill('#email', 'margaret@example.com')
  await page.fill('#password', 'a long enough secret')
  await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]:has-text("Sign in")')])
  t.match(await page.locator('p').first().textContent(), /as margaret@example\.com/, 'the consent page names the user')
  await Promise.all([page.waitForURL((url) => url.origin === new URL(REDIRECT_URI).origin), page.click('button[value=approve]')])

  t.ok(landed, 'the browser reached the client redirect URI')
  t.equal(landed?.searchParams.get('state'), 'chromium')
  t.equal(landed?.searchParams.get('iss'), server.config.baseUrl)
  const issued = await token(server, { grant_type: 'authorization_code', code: landed!.searchParams.get('code')!, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: client.client_id })
  t.equal(issued.status, 200, 'the code the browser carried is redeemed')
  t.same(dialogs, [], 'no script ran')
})
