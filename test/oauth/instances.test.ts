import t from 'tap'
import { spawn } from 'node:child_process'
import { readdirSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../scripts/lib/ports.ts'
import { backends, tempDir, type Backend } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { Browser, formOf } from './browser.ts'
import { REDIRECT_URI, signUp, supabaseUser } from './helpers.ts'
import { authorizeUrl, pkce, register, token } from './manual-client.ts'

const postgres = backends().find((backend) => backend.name === 'postgres')

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))

t.test('two server processes sharing one PostgreSQL', { skip: postgres ? false : 'no PostgreSQL server (run through npm test)' }, async (t) => {
  // A runs in this process; B is `npm start` in a process of its own. They share the
  // database and the public URL, as two replicas behind one load balancer, and nothing
  // else: each has a data folder of its own, and both are still empty at the end.
  const store = await postgres!.create()
  t.teardown(() => store.dispose())
  const database: Backend = { name: 'postgres', create: async () => ({ ...store, dispose: async () => {} }) }
  const a = await startTestServer(database, { AUTH_MODE: 'oauth', DATABASE_URL: store.url! })
  t.teardown(() => a.dispose())
  const bDataDir = tempDir()
  t.teardown(() => rmSync(bDataDir, { recursive: true, force: true }))
  const bPort = await freePort()
  const child = spawn(process.execPath, [MAIN], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(bPort), DATA_DIR: bDataDir, LOG_LEVEL: 'silent', AUTH_MODE: 'oauth',
      BASE_URL: a.config.baseUrl, DATABASE_URL: store.url!,
    },
  })
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  t.teardown(async () => {
    if (child.exitCode === null) child.kill('SIGTERM')
    await exited
  })
  await new Promise<void>((resolve, reject) => {
    let banner = ''
    child.stderr.on('data', (chunk: Buffer) => {
      banner += chunk.toString()
      if (banner.includes('listening on')) resolve()
    })
    void exited.then(() => reject(new Error(`the second process stopped:\n${banner}`)))
  })
  const b = { url: `http://127.0.0.1:${bPort}` }
  const onB = (absolute: string) => absolute.replace(a.config.baseUrl, b.url)

  await signUp(a, 'hedy@example.com', 'a long enough secret')
  const client = (await register(a)).body
  t.ok(client.client_id, 'registered on A')

  const { verifier, challenge } = pkce()
  const browser = new Browser()
  const page = await browser.get(onB(authorizeUrl(a, {
    response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', state: 'two',
  })))
  t.equal(page.status, 200, 'B knows the client registered on A')
  const signIn = formOf(await page.text(), 'name="email"')
  const consentPage = await browser.post(new URL(signIn.action, a.config.baseUrl).toString(), { ...signIn.fields, email: 'hedy@example.com', password: 'a long enough secret' })
  t.equal(consentPage.status, 200, 'the sign-in form posted to A continues the request B started')
  const consent = formOf(await consentPage.text(), 'name="decision"')
  const done = await browser.post(new URL(consent.action, b.url).toString(), { ...consent.fields, decision: 'approve' })
  t.equal(done.status, 303, 'approved on B')
  const code = new URL(done.headers.get('location')!).searchParams.get('code')!

  const issued = await token(a, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: client.client_id })
  t.equal(issued.status, 200, 'the code from B is redeemed on A')
  t.equal((await supabaseUser(a, issued.body.access_token)).email, 'hedy@example.com')

  const refreshOn = async (base: string) => {
    const response = await fetch(`${base}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: issued.body.refresh_token, client_id: client.client_id }),
    })
    return { status: response.status, body: (await response.json()) as any }
  }
  const [fromA, fromB] = await Promise.all([refreshOn(a.config.baseUrl), refreshOn(b.url)])
  t.equal(fromA.status, 200)
  t.equal(fromB.status, 200, 'the same refresh token on both instances at once')
  t.equal(fromA.body.refresh_token, fromB.body.refresh_token, 'is rotated once: both get the same new pair')
  t.equal((await supabaseUser(a, fromB.body.access_token)).status, 200, 'and the session lives on')
  t.same([readdirSync(a.config.dataDir), readdirSync(bDataDir)], [[], []], 'neither instance kept anything in its data folder')
})
