import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { backends, tempDir } from '../helpers/backends.ts'
import { signUp } from './helpers.ts'
import { startProbeServer } from './probe-mcp.ts'

const require = createRequire(import.meta.url)
const MCP_REMOTE_CLIENT = join(require.resolve('mcp-remote/package.json'), '..', 'dist', 'client.js')
const BROWSER = fileURLToPath(new URL('./fixtures/sign-in-browser.sh', import.meta.url))

t.test('mcp-remote signs in through the oauth mode and lists the tools', async (t) => {
  const probe = await startProbeServer(backends()[0]!)
  t.teardown(() => probe.dispose())
  const { config } = probe
  await signUp({ config, anonKey: config.effectiveAnonKey }, 'grace.h@example.com', 'a long enough secret')
  const home = tempDir('atoms-mcp-remote-')
  t.teardown(() => rmSync(home, { recursive: true, force: true }))
  const signInLog = join(home, 'sign-in.log')

  const child = spawn(process.execPath, [MCP_REMOTE_CLIENT, `${config.baseUrl}/mcp`, '--transport', 'http-only'], {
    // stdin stays open: the client shuts down when it ends.
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env, HOME: home, MCP_REMOTE_CONFIG_DIR: join(home, 'mcp-auth'), BROWSER, DISPLAY: '', WAYLAND_DISPLAY: '',
      SIGN_IN_EMAIL: 'grace.h@example.com', SIGN_IN_PASSWORD: 'a long enough secret', SIGN_IN_LOG: signInLog,
    },
  })
  t.teardown(() => {
    if (child.exitCode === null) child.kill()
  })
  let transcript = ''
  const listed = await new Promise<boolean>((resolve) => {
    const read = (chunk: Buffer) => {
      transcript += chunk.toString()
      if (/Tools:[\s\S]*whoami/.test(transcript)) resolve(true)
    }
    child.stdout.on('data', read)
    child.stderr.on('data', read)
    child.on('exit', () => resolve(false))
  })
  t.ok(listed, `mcp-remote-client printed the tools:\n${listed ? '' : transcript}`)
  t.match(readFileSync(signInLog, 'utf8'), /^http:\/\/localhost:\d+\/oauth\/callback$/m, 'the scripted browser signed in and went back to mcp-remote')
  child.stdin.end()
})
