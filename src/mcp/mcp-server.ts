import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import {
  CallToolRequestSchema,
  ErrorCode,
  isJSONRPCNotification,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type RequestInfo,
} from '@modelcontextprotocol/sdk/types.js'
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

export interface DispatchOptions {
  authInfo?: AuthInfo
  requestInfo?: RequestInfo
  /** Notifications a handler sends while it works (progress, logs), for streaming transports. */
  onNotification?(notification: JSONRPCNotification): void
}

export interface McpCore {
  registry: ToolRegistry
  /** Hands one client message to the server: the reply to a request, undefined for anything else. */
  dispatch(message: JSONRPCMessage, options?: DispatchOptions): Promise<JSONRPCMessage | undefined>
  close(): Promise<void>
}

/** Logs failures that are the server's fault; the caller only learns that one happened. */
export type ErrorLogger = (error: unknown, message: string) => void

/** Turns a failure that is the server's fault into a bare JSON-RPC internal error, logged. */
export type Unexpected = (error: unknown, what: string) => McpError

/** Refusals a user can act on (not found, forbidden, invalid field, no token, past the usage limit). */
export function isUserError(error: unknown): error is EntityError | NotAuthenticatedError | UsageLimitError {
  return error instanceof EntityError || error instanceof NotAuthenticatedError || error instanceof UsageLimitError
}

export function toolResult(value: unknown): CallToolResult {
  const structured = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  return { content: [{ type: 'text', text: JSON.stringify(value) }], ...(structured ? { structuredContent: structured } : {}) }
}

/**
 * The MCP server, built once per process and shared by every transport through one
 * `RequestTransport`. The low-level `Server` is used (rather than `McpServer`) so that malformed
 * arguments stay JSON-RPC -32602 errors instead of being folded into tool results.
 */
export async function createMcpCore(deps: { db: Db; logError: ErrorLogger; usage?: UsageTracker }): Promise<McpCore> {
  const registry = new ToolRegistry(TOOLS, { db: deps.db, usage: deps.usage ?? new UsageCounter() })
  const server = new Server(
    { name: 'atoms-mcp', title: 'atoms', version: pkg.version },
    { capabilities: { tools: { listChanged: false }, resources: {} }, instructions: INSTRUCTIONS },
  )
  const unexpected: Unexpected = (error, what) => {
    if (error instanceof McpError) return error
    // An outage, not a fault of this call: /ready reports it, and the caller is told to retry.
    if (error instanceof DatabaseUnavailableError) return new McpError(ErrorCode.InternalError, DATABASE_UNAVAILABLE.message, DATABASE_UNAVAILABLE.data)
    deps.logError(error, what)
    return new McpError(ErrorCode.InternalError, `${what} failed unexpectedly; try again later`)
  }

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: registry.descriptors }))
  const callTool = async ({ name, arguments: args }: ToolCallParams, authInfo: AuthInfo | undefined): Promise<CallToolResult> => {
    try {
      return toolResult(await registry.call(name, args, () => userFromAuthInfo(authInfo)))
    } catch (error) {
      if (isUserError(error)) return { content: [{ type: 'text', text: error.message }], isError: true }
      throw unexpected(error, `tool ${name}`)
    }
  }
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => callTool(request.params, extra.authInfo))

  registerResources(server, deps.db, unexpected)

  const transport = new RequestTransport()
  server.onerror = (error) => deps.logError(error, 'mcp protocol error')
  await server.connect(transport)
  return {
    registry,
    async dispatch(message, options = {}) {
      if (!isRequest(message)) {
        // A cancellation names the caller's own request ids, which on this shared server could
        // be another caller's internal ids; it is dropped. Replies from clients have no use here.
        if (isJSONRPCNotification(message) && message.method !== 'notifications/cancelled') {
          transport.notify(message, { authInfo: options.authInfo, requestInfo: options.requestInfo })
        }
        return undefined
      }
      // The hot path: a plain tool call goes straight to its handler, skipping the SDK's
      // per-request work (three schema parses, an AbortController, id rewriting) whose only
      // outcome here would be the same reply, in the same shape as the SDK builds it.
      const call = plainToolCallParams(message)
      if (call) {
        try {
          return { result: await callTool(call, options.authInfo), jsonrpc: '2.0', id: message.id }
        } catch (error) {
          const { code, message: text, data } = error as McpError
          return { jsonrpc: '2.0', id: message.id, error: { code, message: text, ...(data !== undefined ? { data } : {}) } }
        }
      }
      return transport.request(message, { authInfo: options.authInfo, requestInfo: options.requestInfo }, options.onNotification)
    },
    close: () => server.close(),
  }
}
