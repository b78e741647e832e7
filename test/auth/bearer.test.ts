import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { CHALLENGE_INVALID_TOKEN, forgeries, logCollector, probe, probeRoutes, signedInUser } from '../helpers/auth.ts'

const USER_ENDPOINT = '/auth/v1/user'

/** Polls until `check` holds, for at most `limitMs`; returns whether it did. */
async function eventually(check: () => Promise<boolean>, limitMs = 10_000): Promise<boolean> {
  const until = Date.now() + limitMs
  while (Date.now() < until) {
    if (await check()) return true
    await sleep(100)
  }
  return check()
}

for (const backend of backends()) {
  t.test(`bearer mode asks Supabase once per token on ${backend.name}`, async (t) => {
    const log = logCollector()
    const server = await startTestServer(backend, { AUTH_MODE: 'bearer', LOG_LEVEL: 'info' }, { extraRoutes: probeRoutes, logStream: log.stream })
    t.teardown(() => server.dispose())
    const base = server.config.baseUrl

    const bob = await signedInUser(base, server.anonKey, 'bob@example.com')
    const before = log.arrivals(USER_ENDPOINT)
    const answers = await Promise.all(Array.from({ length: 100 }, () => probe(base, bob.session.access_token)))
    t.same(new Set(answers.map((a) => a.status)), new Set([200]), 'all 100 requests are served')
    t.ok(answers.every((a) => a.body.userId === bob.userId), 'all as bob')
    t.equal(log.arrivals(USER_ENDPOINT) - before, 1, 'exactly one /auth/v1/user call')

    const forged = await forgeries(server.config.dataDir, bob.session.access_token)
    const beforeBad = log.arrivals(USER_ENDPOINT)
    const malformed = await Promise.all(Array.from({ length: 20 }, () => probe(base, forged.garbage)))
    t.ok(malformed.every((a) => a.status === 401))
    t.equal(log.arrivals(USER_ENDPOINT) - beforeBad, 0, 'a token that is not a JWT never reaches Supabase')
    const badSignature = await Promise.all(Array.from({ length: 20 }, () => probe(base, forged.otherKeySameKid)))
    t.ok(badSignature.every((a) => a.status === 401 && CHALLENGE_INVALID_TOKEN.test(a.challenge ?? '')))
    t.equal(log.arrivals(USER_ENDPOINT) - beforeBad, 1, 'concurrent checks of a bad token share one call too')

    // TOKEN_CACHE_TTL is 30 s here: within it, an accepted token is not asked about again.
    await bob.supabase.auth.signInWithPassword({ email: 'bob@example.com', password: bob.password })
    const session = (await bob.supabase.auth.getSession()).data.session!
    t.equal((await probe(base, session.access_token)).status, 200)
    await bob.supabase.auth.signOut({ scope: 'local' })
    t.equal((await probe(base, session.access_token)).status, 200, 'a logout is not seen before the cache TTL has passed')
  })

  t.test(`bearer mode sees logouts and deleted users within TOKEN_CACHE_TTL on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend, { AUTH_MODE: 'bearer', TOKEN_CACHE_TTL: '1' }, { extraRoutes: probeRoutes })
    t.teardown(() => server.dispose())
    const base = server.config.baseUrl

    const carol = await signedInUser(base, server.anonKey, 'carol@example.com')
    const token = carol.session.access_token
    t.equal((await probe(base, token)).status, 200)
    const { error } = await carol.supabase.auth.signOut()
    t.equal(error, null, 'supabase-js signs out')
    t.ok(await eventually(async () => (await probe(base, token)).status === 401), 'the token is refused once the TTL has passed')
    const refused = await probe(base, token)
    t.match(refused.challenge, CHALLENGE_INVALID_TOKEN)
    t.match(refused.body.error_description, /session .* has ended/)

    const dave = await signedInUser(base, server.anonKey, 'dave@example.com')
    await server.db.query('delete from embedded_auth.users where id = $1', [dave.userId])
    const gone = await probe(base, dave.session.access_token)
    t.equal(gone.status, 401, 'a token of a deleted user is refused')
    t.match(gone.challenge, CHALLENGE_INVALID_TOKEN)
    t.match(gone.body.error_description, /no longer exists/)

    const erin = await signedInUser(base, server.anonKey, 'erin@example.com')
    t.equal((await probe(base, erin.session.access_token)).status, 200)
    await server.db.query('delete from embedded_auth.users where id = $1', [erin.userId])
    t.ok(await eventually(async () => (await probe(base, erin.session.access_token)).status === 401), 'an accepted token is refused once its user is deleted and the TTL has passed')
  })
}
