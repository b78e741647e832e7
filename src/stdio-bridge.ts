import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { isJSONRPCRequest, isJSONRPCResultResponse, type JSONRPCMessage } from '@modelcontextprotocol/server'
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio'
import { jsonRpcError } from './mcp/http-common.ts'
import type { StderrLog } from './mcp/stdio.ts'

/**
 * stdio for a client, relayed to the MCP endpoint of the server already running on this
 * data: the embedded database belongs to one process, so this one speaks through it, with
 * `token` (MCP_AUTH_TOKEN) on every request. Resolves when stdin ends.
 */
export async function bridgeStdioToServer(endpoint: URL, token: string | undefined, log: StderrLog): Promise<void> {
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
      const reason = /401|Unauthorized/i.test(error.message) ? (token ? 'the running server refused MCP_AUTH_TOKEN' : 'authentication required: set MCP_AUTH_TOKEN') : error.message
      if (isJSONRPCRequest(message)) void local.send(jsonRpcError(-32001, reason, message.id) as JSONRPCMessage)
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
