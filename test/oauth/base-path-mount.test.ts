import t from 'tap'
import { auth } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { freePort } from '../../scripts/lib/ports.ts'
import { backends } from '../helpers/backends.ts'
import { startTestServer } from '../helpers/server.ts'
import { signUp, TestOAuthProvider } from './helpers.ts'

const backend = backends()[0]!

t.test('BASE_URL with a path mounts every surface under it: the SDK OAuth client signs in from the bare URL .../fastmcp/mcp', async (t) => {
  const port = String(await freePort())
  const origin = `http://127.0.0.1:${port}`
  const base = `${origin}/fastmcp`
  const server = await startTestServer(backend, { AUTH_MODE: 'oauth', PORT: port, BASE_URL: base })
  t.teardown(() => server.dispose())
  const userId = await signUp(server, 'ada@example.com', 'correct horse battery')

  for (const path of ['/health', '/ready']) t.equal((await fetch(`${base}${path}`)).status, 200, `${path} answers under the path`)
  for (const path of ['/mcp', '/health', '/api/mcp/tools']) t.equal((await fetch(`${origin}${path}`, { method: path === '/mcp' ? 'POST' : 'GET' })).status, 404, `and not at the root: ${path}`)

  const challenge = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  })
  t.equal(challenge.status, 401)
  const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge.headers.get('www-authenticate') ?? '')?.[1]
  t.equal(metadataUrl, `${base}/.well-known/oauth-protected-resource/mcp`, 'the 401 points at metadata under the path')
  const metadata = (await (await fetch(metadataUrl!)).json()) as { resource: string }
  t.equal(metadata.resource, `${base}/mcp`, 'the advertised resource is the URL the client was given')
  const atRoot = (await (await fetch(`${origin}/.well-known/oauth-protected-resource/fastmcp/mcp`)).json()) as { resource: string }
  t.equal(atRoot.resource, `${base}/mcp`, 'and the same document is at the RFC 9728 place, for clients that ignore the challenge')

  // finding 17.1: the site forwards only /fastmcp/* to this server (one proxy rule) and answers
  // 404 for everything else; the client still signs in and calls a tool.
  const outsidePath: string[] = []
  const behindOneRule = (url: string | URL, init?: RequestInit) => {
    if (new URL(url).pathname.startsWith('/fastmcp/')) return fetch(url, init)
    outsidePath.push(new URL(url).pathname)
    return Promise.resolve(new Response('not here', { status: 404 }))
  }
  const provider = new TestOAuthProvider({ email: 'ada@example.com', password: 'correct horse battery' })
  const serverUrl = `${base}/mcp`
  const viaChallenge = { serverUrl, resourceMetadataUrl: new URL(metadataUrl!), fetchFn: behindOneRule }
  t.equal(await auth(provider, viaChallenge), 'REDIRECT', 'the client discovers everything from the bare URL and its 401, and is sent to sign in')
  t.equal(await auth(provider, { ...viaChallenge, authorizationCode: provider.pendingCode! }), 'AUTHORIZED')
  t.comment(`outside the path the client also tried, and did without: ${outsidePath.join(', ') || 'nothing'}`)

  const client = new Client({ name: 'base-path', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider, fetch: behindOneRule }))
  t.teardown(() => client.close())
  const whoami = (await client.callTool({ name: 'whoami', arguments: {} })) as { content: { text: string }[]; isError?: boolean }
  t.notOk(whoami.isError)
  t.equal(JSON.parse(whoami.content[0]!.text).id, userId, 'the advertised resource answers, as the signed-in user')

  const bearer = { authorization: `Bearer ${provider.stored!.access_token}` }
  t.equal((await fetch(`${base}/api/mcp/tools`, { headers: bearer })).status, 200, '/api/mcp/* is under the path')
  const controller = new AbortController()
  const sse = await fetch(`${base}/sse`, { headers: { ...bearer, accept: 'text/event-stream' }, signal: controller.signal })
  t.equal(sse.status, 200, '/sse is under the path')
  const reader = sse.body!.getReader()
  let events = ''
  while (!events.includes('\n\n')) events += new TextDecoder().decode((await reader.read()).value)
  controller.abort()
  t.match(events, /event: endpoint\ndata: \/fastmcp\/messages\?sessionId=/, 'and sends its clients to /messages under the path')
})
