import t from 'tap'
import { createClient } from '@supabase/supabase-js'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'

for (const backend of backends()) {
  t.test(`supabase-js against the embedded auth on ${backend.name}`, async (t) => {
    const server = await startTestServer(backend)
    t.teardown(() => server.dispose())
    const supabase = createClient(server.config.baseUrl, server.anonKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    })

    const signUp = await supabase.auth.signUp({ email: 'alice@example.com', password: 'correct horse' })
    t.equal(signUp.error, null, 'signUp succeeds')
    t.ok(signUp.data.session?.access_token, 'autoconfirm returns a session')

    const wrong = await supabase.auth.signInWithPassword({ email: 'alice@example.com', password: 'wrong password' })
    t.equal(wrong.error?.code, 'invalid_credentials')
    t.equal(wrong.error?.status, 400)

    const signIn = await supabase.auth.signInWithPassword({ email: 'alice@example.com', password: 'correct horse' })
    t.equal(signIn.error, null)
    const session = signIn.data.session!
    const user = await supabase.auth.getUser(session.access_token)
    t.equal(user.data.user?.email, 'alice@example.com')
    t.equal(user.data.user?.id, signIn.data.user?.id)
  })
}
