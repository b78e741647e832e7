import t from 'tap'
import pg from 'pg'
import { keepBusy } from '../../scripts/lib/keep-busy.ts'
import { callTool } from '../../scripts/lib/mcp-call.ts'
import { createDatabase, startPostgres } from '../../scripts/lib/services.ts'
import { spawnServer } from '../../scripts/lib/spawn-server.ts'
import { EMBEDDED_ANON_KEY } from '../../src/config.ts'
import { supabaseClient } from '../helpers/auth.ts'

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (!(await check().catch((error) => ((last = error), false)))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (${last})`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

t.test('PostgreSQL restarted under load: 503 while it is gone, nothing acknowledged lost, service resumes', async (t) => {
  const postgres = await startPostgres()
  t.teardown(() => postgres.stop())
  const database = await createDatabase(postgres.url)
  const server = await spawnServer({ DATABASE_URL: database.url, AUTH_MODE: 'jwt', LOGIN_RATE_LIMIT_MAX: '100000' })
  t.teardown(() => server.stop())
  const ready = async () => (await fetch(`${server.url}/ready`)).status

  const supabase = supabaseClient(server.url, EMBEDDED_ANON_KEY)
  const signUp = await supabase.auth.signUp({ email: 'load@example.com', password: 'correct horse battery' })
  t.equal(signUp.error, null)
  const token = signUp.data.session!.access_token

  const acknowledged: string[] = []
  const outcomes = new Map<string, number>()
  const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
  let unclean: string | undefined
  const load = keepBusy(6, async (worker, round) => {
    if (worker === 5) {
      // One loop signs in, the others write.
      const signIn = await fetch(`${server.url}/auth/v1/token?grant_type=password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', apikey: EMBEDDED_ANON_KEY },
        body: JSON.stringify({ email: 'load@example.com', password: 'correct horse battery' }),
      })
      await signIn.text()
      count(`sign-in ${signIn.status}`)
      if (signIn.status !== 200 && !(signIn.status === 503 && signIn.headers.get('retry-after'))) unclean ??= `sign-in answered ${signIn.status}`
      return
    }
    const slug = `org-${worker}-${round}`
    const created = await callTool(server.url, token, 'entity_tool', { operation: 'create', entity_type: 'organization', data: { name: slug, slug } }, round)
    count(`create ${created.status}${created.status === 200 && created.isError ? ' tool error' : ''}`)
    if (created.status === 200 && !created.isError) acknowledged.push(slug)
    else if (!(created.status === 503 && created.retryAfter)) unclean ??= `create answered ${created.status}: ${JSON.stringify(created.message).slice(0, 400)}`
  })
  t.teardown(() => load.stop())

  await until('writes flow', async () => acknowledged.length >= 20)
  await postgres.pause()
  await until('/ready reports the database gone', async () => (await ready()) === 503)
  const beforeOutage = acknowledged.length
  await until('requests fail while it is gone', async () => (outcomes.get('create 503') ?? 0) >= 10)
  await postgres.resume()
  await until('/ready reports it back', async () => (await ready()) === 200)
  await until('writes flow again', async () => acknowledged.length >= beforeOutage + 20)
  await load.stop()

  t.comment(`outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`)
  t.equal(unclean, undefined, 'every request either succeeded or got 503 with Retry-After')
  if (unclean) t.comment(server.output().split('\n').filter((line) => line.includes('"level":50')).slice(0, 2).join('\n'))
  t.ok((outcomes.get('sign-in 503') ?? 0) > 0 || (outcomes.get('create 503') ?? 0) > 0, 'the outage was felt')

  const admin = new pg.Client({ connectionString: database.url })
  await admin.connect()
  t.teardown(() => admin.end())
  const { rows } = await admin.query<{ slug: string }>('select slug from atoms.organizations where slug = any($1)', [acknowledged])
  t.equal(rows.length, acknowledged.length, `all ${acknowledged.length} acknowledged writes are in the database`)

  const after = await supabaseClient(server.url, EMBEDDED_ANON_KEY).auth.signInWithPassword({ email: 'load@example.com', password: 'correct horse battery' })
  t.equal(after.error, null, 'sign-in works again, without a restart of the server')
  const refreshed = await supabase.auth.refreshSession({ refresh_token: signUp.data.session!.refresh_token })
  t.equal(refreshed.error, null, 'and so does a refresh of a session from before the outage')
  t.equal(server.child.exitCode, null, 'the server never stopped')
})
