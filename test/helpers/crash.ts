import { keepBusy } from '../../scripts/lib/keep-busy.ts'
import { callTool } from '../../scripts/lib/mcp-call.ts'
import { freePort } from '../../scripts/lib/ports.ts'
import { spawnServer } from '../../scripts/lib/spawn-server.ts'
import { EMBEDDED_ANON_KEY } from '../../src/config.ts'
import { procTable } from '../../src/db/folder-lock.ts'
import { supabaseClient } from './auth.ts'

type Checks = { teardown(fn: () => unknown): void; equal(a: unknown, b: unknown, message: string): unknown; ok(value: unknown, message: string): unknown }

const table = procTable()
const stateOf = (pid: number) => table.info(pid)?.state ?? 'gone'

const until = async (what: string, check: () => boolean, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function signUp(url: string, email: string): Promise<string> {
  const { data, error } = await supabaseClient(url, EMBEDDED_ANON_KEY).auth.signUp({ email, password: 'correct horse battery' })
  if (error) throw error
  return data.session!.access_token
}

const createOrganization = (url: string, token: string, slug: string) =>
  callTool(url, token, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: slug, slug } })

/**
 * Eight clients create organizations through `npm start`'s server until `killAfter` have been
 * acknowledged; then the whole process group (npm and node) is killed with SIGKILL, as an OOM
 * kill or a container stop past its grace period does, and `npm start` runs again at once on
 * the same data and port. Resolves with every acknowledged slug, the holder's state at the
 * restart, and the restarted server.
 */
export async function crashAndRestart(t: Checks, env: Record<string, string>, dataDir: string) {
  const port = String(await freePort())
  const first = await spawnServer({ ...env, PORT: port, AUTH_MODE: 'jwt' }, { dataDir, npmStart: true })
  t.teardown(() => first.stop('SIGKILL'))
  const token = await signUp(first.url, 'crash@example.com')
  const nodePid = first.serverPid()

  const acknowledged: string[] = []
  let refusedBeforeKill = 0
  let killed = false
  const load = keepBusy(8, async (worker, round) => {
    const slug = `crash-${worker}-${round}`
    const created = await createOrganization(first.url, token, slug)
    if (created.status === 200 && !created.isError) acknowledged.push(slug)
    else if (!killed) refusedBeforeKill++
  })
  await until('writes flow', () => acknowledged.length >= 40)
  killed = true
  process.kill(-first.child.pid!, 'SIGKILL')
  await first.exited
  const holderAtRestart = stateOf(nodePid)
  const second = await spawnServer({ ...env, PORT: port, AUTH_MODE: 'jwt' }, { dataDir, npmStart: true })
  t.teardown(() => second.stop('SIGKILL'))
  await load.stop()
  t.equal(refusedBeforeKill, 0, 'every write before the kill was acknowledged')

  const after = await createOrganization(second.url, token, 'after-restart')
  t.ok(after.status === 200 && !after.isError, 'the restarted server takes writes with a session from before the crash')
  return { acknowledged, holderAtRestart, nodePid, second }
}

