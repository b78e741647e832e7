import {
  createMcpHandler,
  isJSONRPCNotification,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  type AuthInfo,
  type CacheHint,
  type CallToolResult,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type McpHttpHandler,
} from '@modelcontextprotocol/server'
import pkg from '../../package.json' with { type: 'json' }
import { DatabaseUnavailableError, type Db } from '../db/db.ts'
import { EntityError } from '../entities/errors.ts'
import { NotAuthenticatedError, userFromAuthInfo } from './auth-info.ts'
import { DATABASE_UNAVAILABLE } from './http-common.ts'
import { isRequest, plainToolCallParams, type ToolCallParams } from './messages.ts'
import { registerResources } from './resources.ts'
import { RequestTransport } from './request-transport.ts'
import { ToolRegistry } from './tool-registry.ts'
import { TOOLS } from './tools/index.ts'
import { UsageCounter, UsageLimitError, type UsageTracker } from './usage.ts'

const INSTRUCTIONS = `atoms-mcp manages organizations, projects, documents, requirements and tests, and the relationships between them.
Start with workspace_tool list_organizations (or create an organization with entity_tool), then set_context to make a project active.
Everything you see follows your organization memberships; viewers can read but not change.`

export const SERVER_INFO = { name: 'atoms-mcp', title: 'atoms', version: pkg.version }

/** How long a client may keep a list (2026-07-28 `ttlMs`): the lists change only with a new release. */
export const LIST_TTL_MS = 5 * 60_000

/**
 * The caching hints of the 2026-07-28 era. Every list is the same for every caller (the five
 * tools, the one profile resource, the one template), so `public`; what a read returns is the
 * caller's own, so `private` and not kept.
 */
const CACHE_HINTS: Record<'tools/list' | 'resources/list' | 'resources/templates/list' | 'server/discover' | 'resources/read', CacheHint> = {
  'tools/list': { ttlMs: LIST_TTL_MS, cacheScope: 'public' },
  'resources/list': { ttlMs: LIST_TTL_MS, cacheScope: 'public' },
  'resources/templates/list': { ttlMs: LIST_TTL_MS, cacheScope: 'public' },
  'server/discover': { ttlMs: LIST_TTL_MS, cacheScope: 'public' },
  'resources/read': { ttlMs: 0, cacheScope: 'private' },
}

export interface DispatchOptions {
  authInfo?: AuthInfo
  /** Notifications a handler sends while it works (progress, logs), for streaming transports. */
  onNotification?(notification: JSONRPCNotification): void
}

export interface McpCore {
  registry: ToolRegistry
  /**
   * The one way into a tool, whatever the era or surface: the tool's result, or its refusal
   * as an `isError` result. Malformed calls and server faults throw `ProtocolError`.
   */
  callTool(params: ToolCallParams, authInfo: AuthInfo | undefined): Promise<CallToolResult>
  /** Hands one 2025-era client message to the shared server: the reply to a request, undefined for anything else. */
  dispatch(message: JSONRPCMessage, options?: DispatchOptions): Promise<JSONRPCMessage | undefined>
  /** The SDK's per-request handler for the 2026-07-28 era (it refuses 2025-era traffic; that goes to `dispatch`). */
  modern: McpHttpHandler
  close(): Promise<void>
}

/** Logs failures that are the server's fault; the caller only learns that one happened. */
export type ErrorLogger = (error: unknown, message: string) => void

/** Turns a failure that is the server's fault into a bare JSON-RPC internal error, logged. */
export type Unexpected = (error: unknown, what: string) => ProtocolError

/** Refusals a user can act on (not found, forbidden, invalid field, no token, past the usage limit). */
export function isUserError(error: unknown): error is EntityError | NotAuthenticatedError | UsageLimitError {
  return error instanceof EntityError || error instanceof NotAuthenticatedError || error instanceof UsageLimitError
}

/** Results whose `structuredContent` serialises to their text (the value both stand for), by that text. */
const serialisedStructure = new WeakMap<CallToolResult, string>()

export function toolResult(value: unknown): CallToolResult {
  const structured = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  const text = JSON.stringify(value)
  if (!structured) return { content: [{ type: 'text', text }] }
  const result: CallToolResult = { content: [{ type: 'text', text }], structuredContent: structured }
  serialisedStructure.set(result, text)
  return result
}

const keysAre = (value: object, keys: readonly string[]) => {
  const own = Object.keys(value)
  return own.length === keys.length && own.every((key, i) => key === keys[i])
}

/**
 * A reply as `JSON.stringify` writes it, byte for byte; for a tool's result, without
 * serialising its value a second time: the value is in the result twice, as the text and as
 * `structuredContent`, and its JSON is that text. A page of entities is most of a reply.
 */
export function serialiseReply(message: unknown): string {
  if (message !== null && typeof message === 'object' && keysAre(message, ['result', 'jsonrpc', 'id'])) {
    const { result, jsonrpc, id } = message as { result: CallToolResult; jsonrpc: string; id: unknown }
    const text = serialisedStructure.get(result)
    if (text !== undefined && keysAre(result, ['content', 'structuredContent']) && result.content.length === 1 && keysAre(result.content[0]!, ['type', 'text'])) {
      return `{"result":{"content":[{"type":"text","text":${JSON.stringify(text)}}],"structuredContent":${text}},"jsonrpc":${JSON.stringify(jsonrpc)},"id":${JSON.stringify(id)}}`
    }
  }
  return JSON.stringify(message)
}

/** The JSON-RPC error object of a `ProtocolError` thrown on the way to a tool. */
export function errorObject(error: ProtocolError) {
  return { code: error.code, message: error.message, ...(error.data !== undefined ? { data: error.data } : {}) }
}

/**
 * The MCP layer on the SDK's v2 packages. The same handlers back both eras: one long-lived
 * `Server` answers the 2025 revisions for every HTTP request, SSE session and stdio line
 * through one `RequestTransport` (no server per request), and the SDK's `createMcpHandler`
 * builds a `Server` per 2026-07-28 request from the same factory, with its validation ladder
 * in front. The low-level `Server` (rather than `McpServer`) keeps malformed arguments
 * JSON-RPC -32602 errors instead of folding them into tool results.
 */
export async function createMcpCore(deps: { db: Db; logError: ErrorLogger; usage?: UsageTracker }): Promise<McpCore> {
  const registry = new ToolRegistry(TOOLS, { db: deps.db, usage: deps.usage ?? new UsageCounter() })
  const unexpected: Unexpected = (error, what) => {
    if (error instanceof ProtocolError) return error
    // An outage, not a fault of this call: /ready reports it, and the caller is told to retry.
    if (error instanceof DatabaseUnavailableError) return new ProtocolError(ProtocolErrorCode.InternalError, DATABASE_UNAVAILABLE.message, DATABASE_UNAVAILABLE.data)
    deps.logError(error, what)
    return new ProtocolError(ProtocolErrorCode.InternalError, `${what} failed unexpectedly; try again later`)
  }

  const callTool = async ({ name, arguments: args }: ToolCallParams, authInfo: AuthInfo | undefined): Promise<CallToolResult> => {
    try {
      return toolResult(await registry.call(name, args, () => userFromAuthInfo(authInfo)))
    } catch (error) {
      if (isUserError(error)) return { content: [{ type: 'text', text: error.message }], isError: true }
      throw unexpected(error, `tool ${name}`)
    }
  }

  const buildServer = () => {
    const server = new Server(SERVER_INFO, {
      capabilities: { tools: { listChanged: false }, resources: {} },
      instructions: INSTRUCTIONS,
      cacheHints: CACHE_HINTS,
    })
    server.setRequestHandler('tools/list', async () => ({ tools: registry.descriptors }))
    server.setRequestHandler('tools/call', (request, ctx) => callTool(request.params, ctx.http?.authInfo))
    registerResources(server, deps.db, unexpected)
    server.onerror = (error) => deps.logError(error, 'mcp protocol error')
    return server
  }

  const shared = buildServer()
  const transport = new RequestTransport()
  await shared.connect(transport)
  const modern = createMcpHandler(buildServer, {
    legacy: 'reject',
    // Ladder rejections are the caller's mistakes, answered to them; only faults are logged.
    onerror: (error) => {
      if (!(error instanceof ProtocolError) && !/^Rejected /.test(error.message)) deps.logError(error, 'mcp 2026-07-28 request failed')
    },
  })

  return {
    registry,
    callTool,
    modern,
    async dispatch(message, options = {}) {
      if (!isRequest(message)) {
        // A cancellation names the caller's own request ids, which on this shared server could
        // be another caller's internal ids; it is dropped. Replies from clients have no use here.
        if (isJSONRPCNotification(message) && message.method !== 'notifications/cancelled') transport.notify(message, { authInfo: options.authInfo })
        return undefined
      }
      // The hot path: a plain tool call goes straight to its handler, skipping the SDK's
      // per-request work (schema parses, an AbortController, id rewriting) whose only
      // outcome here would be the same reply, in the same shape as the SDK builds it.
      const call = plainToolCallParams(message)
      if (call) {
        try {
          return { result: await callTool(call, options.authInfo), jsonrpc: '2.0', id: message.id }
        } catch (error) {
          return { jsonrpc: '2.0', id: message.id, error: errorObject(error as ProtocolError) }
        }
      }
      return transport.request(message, { authInfo: options.authInfo }, options.onNotification)
    },
    async close() {
      await modern.close()
      await shared.close()
    },
  }
}
