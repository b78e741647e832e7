import { createClient } from '@supabase/supabase-js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { Backend } from './backends.ts'
import { postMcp as postMcpAt } from '../../scripts/lib/mcp-call.ts'
import { startTestServer, type TestServer } from './server.ts'

/** A listening server with the MCP endpoints, in jwt mode over the tokens of its embedded auth. */
export function startMcpServer(backend: Backend, env: Record<string, string> = {}): Promise<TestServer> {
  return startTestServer(backend, { AUTH_MODE: 'jwt', ...env })
}

export interface TestUser {
  id: string
  email: string
  token: string
}

/** Signs a user up through supabase-js, as a real client would. */
export async function signUp(server: TestServer, email: string): Promise<TestUser> {
  const supabase = createClient(server.config.baseUrl, server.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  })
  const { data, error } = await supabase.auth.signUp({ email, password: 'correct horse battery' })
  if (error || !data.session || !data.user) throw new Error(`signUp failed: ${error?.message}`)
  return { id: data.user.id, email, token: data.session.access_token }
}

/** An SDK client connected over Streamable HTTP with the user's bearer token. */
export async function connect(server: TestServer, user: TestUser | undefined): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${server.config.baseUrl}/mcp`), {
    requestInit: user ? { headers: { authorization: `Bearer ${user.token}` } } : {},
  })
  const client = new Client({ name: 'atoms-test', version: '1.0.0' })
  await client.connect(transport)
  return client
}

export interface ToolOutcome {
  isError: boolean
  text: string
  /** The parsed JSON result when the call succeeded. */
  value: any
}

export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolOutcome> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult
  const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('')
  return { isError: result.isError === true, text, value: result.isError ? undefined : JSON.parse(text) }
}

/** Calls a tool that must succeed and returns its JSON result. */
export async function ok(client: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const outcome = await call(client, name, args)
  if (outcome.isError) throw new Error(`${name} failed: ${outcome.text}`)
  return outcome.value
}

/** A raw JSON-RPC POST to /mcp, for what the SDK client would not send. */
export function postMcp(server: TestServer, body: unknown, headers: Record<string, string> = {}) {
  return postMcpAt(server.config.baseUrl, body, headers)
}

/**
 * A server with Alice and Bob signed up and connected (`a` and `b`), all stopped when the
 * test ends.
 */
export async function aliceAndBob(t: { teardown(fn: () => unknown): void }, backend: Backend) {
  const server = await startMcpServer(backend)
  t.teardown(() => server.dispose())
  const alice = await signUp(server, 'alice@example.com')
  const bob = await signUp(server, 'bob@example.com')
  const a = await connect(server, alice)
  const b = await connect(server, bob)
  t.teardown(async () => {
    await a.close()
    await b.close()
  })
  return { server, alice, bob, a, b }
}
