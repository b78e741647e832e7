import t from 'tap'
import { spawn } from 'node:child_process'
import { readdirSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { obtainCode, postToken, type FlowStep } from '../../scripts/lib/oauth-flow.ts'
import { freePort } from '../../scripts/lib/ports.ts'
import { backends, tempDir, type Backend } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { REDIRECT_URI, signUp, sessionUser } from './helpers.ts'
import { register, token } from './manual-client.ts'

const postgres = backends().find((backend) => backend.name === 'postgres')

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))

t.test('two server processes sharing one PostgreSQL', { skip: postgres ? false : 'no PostgreSQL server (run through npm test)' }, async (t) => {
  // A runs in this process; B is `npm start` in a process of its own. They share the
  // database and the public URL, as two replicas behind one load balancer, and nothing
  // else: each has a data folder of its own, and both are still empty at the end.
  const store = await postgres!.create()
  t.teardown(() => store.dispose())
  const database: Backend = { name: 'postgres', create: async () => ({ ...store, dispose: async () => {} }) }
  // As documented for several instances: one OAUTH_TOKEN_KEY, since the data folders differ.
  const tokenKey = 'the token key every replica is given 0123456789'
  const a = await startTestServer(database, { AUTH_MODE: 'oauth', DATABASE_URL: store.url!, OAUTH_TOKEN_KEY: tokenKey })
  t.teardown(() => a.dispose())
  const bDataDir = tempDir()
  t.teardown(() => rmSync(bDataDir, { recursive: true, force: true }))
  const bPort = await freePort()
  const child = spawn(process.execPath, [MAIN], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(bPort), DATA_DIR: bDataDir, LOG_LEVEL: 'silent', AUTH_MODE: 'oauth',
      BASE_URL: a.config.baseUrl, DATABASE_URL: store.url!, OAUTH_TOKEN_KEY: tokenKey,
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

  await signUp(a, 'hedy@example.com', 'a long enough secret')
  const client = (await register(a)).body
  t.ok(client.client_id, 'registered on A')

  // Every browser step on the other instance than the one before it.
  const route: Partial<Record<FlowStep, string>> = { authorize: b.url, 'sign-in': a.config.baseUrl, consent: b.url }
  const on = (step: FlowStep) => route[step] ?? a.config.baseUrl
  const { code, verifier, consentShown } = await obtainCode(on, client.client_id, { email: 'hedy@example.com', password: 'a long enough secret' }, { state: 'two' })
  t.ok(consentShown, 'B knows the client registered on A, and the sign-in form posted to A continues the request B started')

  const issued = await token(a, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: client.client_id })
  t.equal(issued.status, 200, 'the code approved on B is redeemed on A')
  t.equal((await sessionUser(a, issued.body.access_token)).email, 'hedy@example.com')

  const refreshOn = (base: string) => postToken(base, { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token, client_id: client.client_id })
  const [fromA, fromB] = await Promise.all([refreshOn(a.config.baseUrl), refreshOn(b.url)])
  t.equal(fromA.status, 200)
  t.equal(fromB.status, 200, 'the same refresh token on both instances at once')
  t.equal(fromA.body.refresh_token, fromB.body.refresh_token, 'is rotated once: both get the same new pair')
  t.equal((await sessionUser(a, fromB.body.access_token)).status, 200, 'and the session lives on')
  t.same([readdirSync(a.config.dataDir), readdirSync(bDataDir)], [[], []], 'neither instance kept anything in its data folder')
})
