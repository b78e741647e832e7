import type { IncomingHttpHeaders } from 'node:http'
import { classifyInboundRequest, PROTOCOL_VERSION_META_KEY, type JSONRPCNotification, type JSONRPCRequest, type RequestId } from '@modelcontextprotocol/server'
import type { ToolCallParams } from './messages.ts'

/** The revision served from a per-request `_meta` envelope. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28'

/** The 2025 revisions of the Streamable HTTP transport; the 2024-11-05 transport is at /sse. */
export const STREAMABLE_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26']

export type EraRoute =
  | { era: 'legacy' }
  | { era: 'modern'; message: JSONRPCRequest | JSONRPCNotification }
  | { era: 'reject'; status: number; error: { code: number; message: string; data?: unknown } }

const isPlainObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)

const header = (headers: IncomingHttpHeaders, name: string) => {
  const value = headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** RFC 9110 §5.5: leading and trailing spaces and tabs are not part of a field value. */
// By hand: `/[ \t]+$/` backtracks quadratically over a long run of spaces that is not at the end.
const isOws = (code: number) => code === 0x20 || code === 0x09
function trimOws(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  let start = 0
  let end = value.length
  while (start < end && isOws(value.charCodeAt(start))) start++
  while (end > start && isOws(value.charCodeAt(end - 1))) end--
  return value.slice(start, end)
}

function claimsEnvelope(message: unknown): boolean {
  const meta = isPlainObject(message) && isPlainObject(message.params) ? message.params._meta : undefined
  return isPlainObject(meta) && PROTOCOL_VERSION_META_KEY in meta
}

/** The id of a single JSON-RPC message, so that every error can carry it. */
export function idOf(body: unknown): RequestId | null {
  const id = isPlainObject(body) ? body.id : undefined
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null
}

const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params'])

/**
 * The envelopes, headers and methods the SDK's classifier has already routed to the modern
 * era, each as one key. A client sends the same envelope and headers on every call, and the
 * classifier's verdict depends on nothing else of a request of the usual shape, so it is
 * reached once per distinct key rather than once per request (it costs more than the rest of
 * a tool call). Bounded: odd or made-up envelopes only send their requests to the classifier.
 */
const MAX_REMEMBERED_VERDICTS = 256
const modernVerdicts = new Set<string>()

/**
 * The verdict's key for a single request of the usual shape (the keys of a JSON-RPC request,
 * an integer or string id, params an object); undefined for anything else.
 */
function verdictKey(body: unknown, version: string | undefined, method: string | undefined, name: string | undefined): string | undefined {
  if (!isPlainObject(body) || body.jsonrpc !== '2.0' || typeof body.method !== 'string' || !isPlainObject(body.params)) return undefined
  if (!(typeof body.id === 'string' || Number.isSafeInteger(body.id))) return undefined
  for (const key in body) if (!REQUEST_KEYS.has(key)) return undefined
  return JSON.stringify([version, method, name, body.method, body.params._meta])
}

/**
 * Which era serves a POST to /mcp. A request that claims nothing of 2026-07-28 (no envelope in
 * any message, no modern MCP-Protocol-Version) is 2025 traffic without further look; anything
 * else is decided by the SDK's own classifier, which also answers the ladder's refusals
 * (bad envelope, header against body), so the two eras are split exactly as the SDK splits them.
 */
export function routeByEra(headers: IncomingHttpHeaders, body: unknown): EraRoute {
  const version = trimOws(header(headers, 'mcp-protocol-version'))
  const modernHeader = version !== undefined && version >= MODERN_PROTOCOL_VERSION
  if (!modernHeader && !(Array.isArray(body) ? body.some(claimsEnvelope) : claimsEnvelope(body))) return { era: 'legacy' }
  const methodHeader = header(headers, 'mcp-method')
  const nameHeader = header(headers, 'mcp-name')
  const key = verdictKey(body, version, methodHeader, nameHeader)
  if (key !== undefined && modernVerdicts.has(key)) return { era: 'modern', message: body as JSONRPCRequest }
  const outcome = classifyInboundRequest({ httpMethod: 'POST', protocolVersionHeader: version, mcpMethodHeader: methodHeader, mcpNameHeader: nameHeader, body })
  if (outcome.kind === 'legacy') return { era: 'legacy' }
  if (outcome.kind === 'reject') {
    return { era: 'reject', status: outcome.httpStatus, error: { code: outcome.code, message: outcome.message, ...(outcome.data !== undefined ? { data: outcome.data } : {}) } }
  }
  if (key !== undefined && outcome.messageKind === 'request') {
    if (modernVerdicts.size >= MAX_REMEMBERED_VERDICTS) modernVerdicts.clear()
    modernVerdicts.add(key)
  }
  return { era: 'modern', message: outcome.message }
}

const PLAIN_CALL_KEYS = new Set(['name', 'arguments', '_meta'])

/**
 * A 2026-07-28 `tools/call` that the SDK's handler would surely serve as one plain call: the
 * revision this server speaks, the standard headers present and naming the tool verbatim
 * (the classifier has already matched Mcp-Method and the version against the body), and
 * nothing asked beyond the call (no progress token, no task, no multi-round-trip state).
 * Anything else goes to the SDK, which answers it or refuses it in its own words.
 */
export function plainModernToolCall(message: JSONRPCRequest, headers: IncomingHttpHeaders): ToolCallParams | undefined {
  const params = message.params
  // A name in the header's Base64 form (`=?base64?…?=`) is the SDK's to decode.
  if (message.method !== 'tools/call' || !isPlainObject(params) || typeof params.name !== 'string' || params.name.startsWith('=?')) return undefined
  for (const key in params) if (!PLAIN_CALL_KEYS.has(key)) return undefined
  if (params.arguments !== undefined && !isPlainObject(params.arguments)) return undefined
  const meta = params._meta as Record<string, unknown>
  if (meta[PROTOCOL_VERSION_META_KEY] !== MODERN_PROTOCOL_VERSION || 'progressToken' in meta) return undefined
  if (header(headers, 'mcp-protocol-version') === undefined || header(headers, 'mcp-method') === undefined) return undefined
  if (trimOws(header(headers, 'mcp-name')) !== params.name) return undefined
  return params as unknown as ToolCallParams
}
