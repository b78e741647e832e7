/** One JSON-RPC `tools/call` over Streamable HTTP, as a stateless client sends it. */
export async function callTool(baseUrl: string, token: string, name: string, args: Record<string, unknown> = {}, id: number = 1) {
  const response = await fetch(`${baseUrl}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }),
  })
  const text = await response.text()
  let message: any
  try {
    message = JSON.parse(text)
  } catch {
    message = undefined
  }
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
