/**
 * Takes the pictures of the oauth mode's pages that docs/oauth.md shows: a real server on
 * loopback, Debian's Chromium through playwright-core, and the same /authorize an MCP
 * client opens. Writes docs/images/{sign-in,consent,error}.png.
 *
 *   npm run screenshots
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { EMBEDDED_ANON_KEY } from '../src/config.ts'
import { PUBLIC_CLIENT_METADATA, REDIRECT_URI, authorizeUrl, pkce, postRegistration } from './lib/oauth-flow.ts'
import { spawnServer } from './lib/spawn-server.ts'

const OUT = fileURLToPath(new URL('../docs/images/', import.meta.url))
const USER = { email: 'you@example.com', password: 'a long enough secret' }
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

mkdirSync(OUT, { recursive: true })
const server = await spawnServer({ AUTH_MODE: 'oauth', OAUTH_REGISTRATIONS_PER_HOUR: '0' }, { timeoutMs: 180_000 })
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
try {
  const signUp = await fetch(`${server.url}/auth/v1/signup`, {
    method: 'POST',
    headers: { apikey: EMBEDDED_ANON_KEY, 'content-type': 'application/json' },
    body: JSON.stringify(USER),
  })
  if (!signUp.ok) throw new Error(`sign-up answered ${signUp.status}: ${await signUp.text()}`)
  const registered = await postRegistration(server.url, { ...PUBLIC_CLIENT_METADATA, client_name: 'Claude Code' })
  if (registered.status !== 201) throw new Error(`registration answered ${registered.status}: ${JSON.stringify(registered.body)}`)
  const { challenge } = pkce()
  const page = await browser.newPage({ viewport: { width: 720, height: 640 } })
  const shot = async (name: string) => {
    await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true })
    console.log(`docs/images/${name}.png`)
  }

  await page.goto(authorizeUrl(server.url, {
    response_type: 'code', client_id: registered.body.client_id, redirect_uri: REDIRECT_URI, code_challenge: challenge,
    code_challenge_method: 'S256', state: 'screenshots', scope: 'atoms:read atoms:write', resource: `${server.url}/mcp`,
  }))
  await shot('sign-in')
  await page.fill('#email', USER.email)
  await page.fill('#password', USER.password)
  await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]:has-text("Sign in")')])
  await page.locator('button[value=approve]').waitFor()
  await shot('consent')

  // An unknown client gets a page, never a redirect.
  await page.goto(authorizeUrl(server.url, {
    response_type: 'code', client_id: 'unknown-client', redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256',
  }))
  await shot('error')
} finally {
  await browser.close()
  await server.stop()
}
