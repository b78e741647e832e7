/** The headers of a stateless client's POST to `/mcp` once it has negotiated a protocol version. */
export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
}

/** The JSON-RPC body of a `tools/call`. */
export function toolsCallBody(name: string, args: Record<string, unknown> = {}, id = 1): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } })
}

/** One POST to `/mcp` as a stateless client sends it; the answer parsed when it is JSON. */
export async function postMcp(baseUrl: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${baseUrl}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await response.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers, text, json }
}

/** One JSON-RPC `tools/call` over Streamable HTTP, as a stateless client sends it. */
export async function callTool(baseUrl: string, token: string, name: string, args: Record<string, unknown> = {}, id: number = 1) {
  const response = await postMcp(baseUrl, toolsCallBody(name, args, id), { authorization: `Bearer ${token}` })
  const { text, json: message } = response
  const result = message?.result
  const content = result?.content?.map((c: { text?: string }) => c.text ?? '').join('') ?? ''
  let value: any
  if (result && !result.isError) {
    try {
      value = JSON.parse(content)
    } catch {
      value = content
    }
  }
  return { status: response.status, retryAfter: response.headers.get('retry-after'), message, isError: !result || result.isError === true, value, text }
}

/** The `_meta` envelope a 2026-07-28 client puts in every request. */
export const MODERN_ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'atoms-bench', version: '1.0.0' },
}

/** The headers and body of a 2026-07-28 `tools/call`: the envelope in the body, the standard headers mirroring it. */
export function modernToolsCall(name: string, args: Record<string, unknown> = {}, id = 1) {
  return {
    headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, _meta: MODERN_ENVELOPE } }),
  }
}
