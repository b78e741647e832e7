import t from 'tap'
import { AdminApiError, createSupabaseAdmin } from '../../src/supabase/admin-users.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { signUp } from '../oauth/helpers.ts'

for (const backend of backends()) {
  t.test(`the admin API client finds, reads and creates users in the embedded auth on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend)
    t.teardown(() => server.dispose())
    const admin = createSupabaseAdmin(server.config, server.serviceRoleKey!)
    const joannId = await signUp(server, 'joann@example.com', 'correct horse battery')

    // The admin API's filter is a substring match; only the exact address may count.
    t.equal(await admin.findUserByEmail('ann@example.com'), undefined, 'ann@ does not find joann@')
    const found = await admin.findUserByEmail('JoAnn@Example.com')
    t.equal(found?.id, joannId, 'the exact address, compared without case, finds the user')
    t.equal(found?.banned, false)

    const created = await admin.createUser('ann@example.com', { oidc_issuer: 'https://id.example.com' })
    t.equal(created.email, 'ann@example.com')
    t.equal(created.emailConfirmed, true, 'a created user has a confirmed email')
    t.equal(created.appMetadata.oidc_issuer, 'https://id.example.com', 'and the app metadata it was given')
    t.equal((await admin.getUser(created.id))?.id, created.id)
    t.equal(await admin.getUser('00000000-0000-4000-8000-000000000000'), undefined, 'an unknown id is no user')
    t.equal(await admin.getUser('not-a-uuid'), undefined, 'nor is something that is no id')

    const duplicate = await admin.createUser('ann@example.com', {}).catch((error) => error)
    t.ok(duplicate instanceof AdminApiError && duplicate.status === 422, 'a second user with the same email is refused with 422')

    const wrongKey = createSupabaseAdmin(server.config, 'sb_secret_not-the-key-not-the-key-not-the-key')
    const refused = await wrongKey.findUserByEmail('ann@example.com').catch((error) => error)
    t.ok(refused instanceof AdminApiError && (refused.status === 401 || refused.status === 403), 'without the service-role key the admin API refuses')
  })
}
