import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { isJSONRPCRequest, isJSONRPCResultResponse, type JSONRPCMessage } from '@modelcontextprotocol/server'
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio'
import { jsonRpcError } from './mcp/http-common.ts'
import type { StderrLog } from './mcp/stdio.ts'

/** The message of a JSON-RPC error body the running server answered, if it is one. */
function serverMessage(body: unknown): string | undefined {
  try {
    const message = (JSON.parse(String(body)) as { error?: { message?: unknown } }).error?.message
    return typeof message === 'string' ? message : undefined
  } catch {
    return undefined
  }
}

/**
 * What the stdio client is told when a request could not be relayed. The SDK's transport
 * carries the HTTP status on its error; a 401 is about MCP_AUTH_TOKEN, and says what the
 * server said of it (and `refusalHint`, what this configuration needs) rather than only
 * the transport's wording.
 */
export function relayFailure(error: Error & { status?: unknown; data?: { text?: unknown } }, token: string | undefined, refusalHint?: string): string {
  if (error.status !== 401) return error.message
  if (!token) return 'authentication required: set MCP_AUTH_TOKEN'
  const said = serverMessage(error.data?.text)
  return `the running server refused MCP_AUTH_TOKEN${said ? `: ${said}` : ''}${refusalHint ? ` (${refusalHint})` : ''}`
}

/**
 * stdio for a client, relayed to the MCP endpoint of the server already running on this
 * data: the embedded database belongs to one process, so this one speaks through it, with
 * `token` (MCP_AUTH_TOKEN) on every request. Resolves when stdin ends.
 */
export async function bridgeStdioToServer(endpoint: URL, token: string | undefined, log: StderrLog, refusalHint?: string): Promise<void> {
  const upstream = new StreamableHTTPClientTransport(endpoint, { requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} } })
  const local = new StdioServerTransport()
  const initializing = new Set<string | number>()

  upstream.onmessage = (message) => {
    // The protocol version the server chose goes on every later request, as the SDK's client does.
    if (isJSONRPCResultResponse(message) && initializing.delete(message.id)) {
      const version = (message.result as { protocolVersion?: unknown }).protocolVersion
      if (typeof version === 'string') upstream.setProtocolVersion(version)
    }
    void local.send(message)
  }
  upstream.onerror = (error) => log('warn', 'the running server\'s MCP endpoint failed', { error: error.message })
  local.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCRequest(message) && message.method === 'initialize') initializing.add(message.id)
    upstream.send(message).catch((error: Error) => {
      if (isJSONRPCRequest(message)) void local.send(jsonRpcError(-32001, relayFailure(error, token, refusalHint), message.id) as JSONRPCMessage)
      else log('warn', 'a message could not be relayed to the running server', { error: error.message })
    })
  }
  await upstream.start()
  await local.start()
  log('info', 'atoms-mcp serving MCP on stdio through the server already running on this data', { endpoint: endpoint.href, token: token ? 'from MCP_AUTH_TOKEN' : 'none' })
  await new Promise<void>((resolve) => process.stdin.once('end', resolve).once('close', resolve))
  await upstream.terminateSession().catch(() => {})
  await upstream.close()
}
