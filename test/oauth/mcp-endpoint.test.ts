import t from 'tap'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { backends } from '../helpers/backends.ts'
import { signUp, TestOAuthProvider } from './helpers.ts'
import { startProbeServer } from './probe-mcp.ts'

for (const backend of backends()) {
  t.test(`an MCP client reaches a protected /mcp through the oauth mode on ${backend.name}`, async (t) => {
    const probe = await startProbeServer(backend)
    t.teardown(() => probe.dispose())
    const { config } = probe
    const userId = await signUp({ config, anonKey: config.effectiveAnonKey }, 'tim@example.com', 'a long enough secret')
    const provider = new TestOAuthProvider({ email: 'tim@example.com', password: 'a long enough secret' })
    const url = new URL(`${config.baseUrl}/mcp`)

    let client: Client | undefined
    for (let attempt = 0; attempt < 2 && !client; attempt++) {
      const candidate = new Client({ name: 'probe-client', version: '1.0.0' })
      try {
        await candidate.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }))
        client = candidate
      } catch (error) {
        if (!(error instanceof UnauthorizedError) || !provider.pendingCode) throw error
        const code = provider.pendingCode
        provider.pendingCode = undefined
        await new StreamableHTTPClientTransport(url, { authProvider: provider }).finishAuth(code)
      }
    }
    t.ok(client, 'the client connected after signing in')
    t.match(probe.challenges[0], `resource_metadata="${config.baseUrl}/.well-known/oauth-protected-resource/mcp"`, 'the first 401 pointed it at the metadata')
    t.match(probe.challenges[0], 'scope="atoms:read atoms:write"', 'and named the scopes to ask for')
    const result: any = await client!.callTool({ name: 'whoami', arguments: {} })
    const me = JSON.parse(result.content[0].text)
    t.same([me.id, me.email, me.mode], [userId, 'tim@example.com', 'oauth'], 'tools/call whoami returns the signed-in user')
    await client!.close()
  })
}
