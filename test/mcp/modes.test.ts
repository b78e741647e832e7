import t from 'tap'
import { backends } from '../helpers/backends.ts'
import { connect, ok, signUp } from '../helpers/mcp.ts'
import { startTestServer } from '../helpers/server.ts'

// The tools never know which mode ran: the same call names the same user in each of them.
// The calls carry a Supabase session token, which oauth mode takes only when it hands such
// tokens out; with its own tokens: test/oauth/bound-tokens.test.ts.
for (const backend of backends()) {
  for (const mode of ['jwt', 'bearer', 'simple', 'oauth']) {
    t.test(`whoami over /mcp in ${mode} mode on ${backend.name}`, async (t) => {
      const server = await startTestServer(backend, { AUTH_MODE: mode, ...(mode === 'oauth' ? { OAUTH_ACCESS_TOKENS: 'supabase' } : {}) })
      t.teardown(() => server.dispose())
      const user = await signUp(server, `${mode}@example.com`)
      const client = await connect(server, user)
      t.teardown(() => client.close())
      const tools = await client.listTools()
      t.same(tools.tools.map((tool) => tool.name).sort(), ['entity_tool', 'get_api_usage', 'relationship_tool', 'whoami', 'workspace_tool'])
      const me = await ok(client, 'whoami')
      t.equal(me.id, user.id, 'the token names the caller')
      t.equal(me.email, user.email)
      t.equal(me.mode, mode, 'the mode is reported, not acted on')
      t.notOk(JSON.stringify(me).includes(user.token), 'the token itself is never returned')
    })
  }
}
