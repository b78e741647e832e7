import { isJSONRPCNotification, isJSONRPCRequest, isJSONRPCResponse, type JSONRPCMessage, type JSONRPCRequest } from '@modelcontextprotocol/server'

const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params'])

const isPlainObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)

/**
 * The usual request shape, decided without a schema parse: true only where the SDK's schema
 * surely accepts (no `_meta`, whose contents it checks), false where it surely refuses,
 * undefined for the rest, which the schema then decides.
 */
function quickRequestVerdict(value: unknown): boolean | undefined {
  if (!isPlainObject(value) || !('id' in value) || typeof value.method !== 'string') return false
  if (value.jsonrpc !== '2.0' || !(typeof value.id === 'string' || Number.isSafeInteger(value.id))) return undefined
  for (const key in value) if (!REQUEST_KEYS.has(key)) return undefined
  const params = value.params
  if (params === undefined || (isPlainObject(params) && !('_meta' in params))) return true
  return undefined
}

/**
 * Exactly the SDK's `isJSONRPCRequest`, which parses the message with zod on every call; a
 * request passes this test several times on its way, so the usual shape is decided cheaply.
 */
export function isRequest(value: unknown): value is JSONRPCRequest {
  return quickRequestVerdict(value) ?? isJSONRPCRequest(value)
}

/** Exactly the SDK's verdict on a JSON-RPC message, with the usual request decided cheaply. */
export function isMessage(value: unknown): value is JSONRPCMessage {
  return quickRequestVerdict(value) === true || isJSONRPCRequest(value) || isJSONRPCNotification(value) || isJSONRPCResponse(value)
}

export interface ToolCallParams {
  name: string
  arguments?: Record<string, unknown>
}

/**
 * `tools/call` params the SDK's `CallToolRequestSchema` surely accepts and that ask for
 * nothing beyond a plain call: no `_meta` (progress) and no `task`. Those calls need none of
 * the SDK's per-request machinery and can go straight to the tool.
 */
export function plainToolCallParams(message: JSONRPCRequest): ToolCallParams | undefined {
  const params = message.params
  if (message.method !== 'tools/call' || !isPlainObject(params) || typeof params.name !== 'string') return undefined
  if ('_meta' in params || 'task' in params) return undefined
  if (params.arguments !== undefined && !isPlainObject(params.arguments)) return undefined
  return params as unknown as ToolCallParams
}
