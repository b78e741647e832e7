import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type JSONRPCResponse,
  type RequestId,
  type RequestInfo,
} from '@modelcontextprotocol/sdk/types.js'

export interface DispatchOptions {
  authInfo?: AuthInfo
  requestInfo?: RequestInfo
  /** Notifications the handler sends while working (progress, logs), for streaming transports. */
  onNotification?(notification: JSONRPCNotification): void
  /** Aborts the handler when the client goes away. */
  signal?: AbortSignal
}

interface Pending {
  originalId: RequestId
  resolve(response: JSONRPCResponse | undefined): void
  onNotification?(notification: JSONRPCNotification): void
}

/**
 * One long-lived transport for one long-lived MCP server, shared by every HTTP request,
 * SSE session and stdio line: each incoming request gets a private id for its way through
 * the server, and its response is routed back by that id with the caller's id restored.
 * This avoids building a server and a transport per request; the SDK's protocol layer still
 * does the JSON-RPC work (validation, method routing, cancellation, error shaping).
 */
export class McpDispatcher implements Transport {
  onmessage?: Transport['onmessage']
  onclose?: () => void
  onerror?: (error: Error) => void

  #next = 0
  readonly #pending = new Map<string, Pending>()

  async start(): Promise<void> {}

  async close(): Promise<void> {
    for (const pending of this.#pending.values()) pending.resolve(undefined)
    this.#pending.clear()
    this.onclose?.()
  }

  async send(message: JSONRPCMessage, options?: { relatedRequestId?: RequestId }): Promise<void> {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const key = String(message.id)
      const pending = this.#pending.get(key)
      if (!pending) return
      this.#pending.delete(key)
      pending.resolve({ ...message, id: pending.originalId } as JSONRPCResponse)
    } else if (isJSONRPCNotification(message) && options?.relatedRequestId !== undefined) {
      this.#pending.get(String(options.relatedRequestId))?.onNotification?.(message)
    }
    // Server-initiated requests (sampling, elicitation) need a session to answer on; none is kept.
  }

  /**
   * Hands one message to the server. Resolves with the response for a request, and with
   * undefined for notifications and responses (which have none).
   */
  dispatch(message: JSONRPCMessage, options: DispatchOptions = {}): Promise<JSONRPCResponse | undefined> {
    const extra = { authInfo: options.authInfo, requestInfo: options.requestInfo }
    if (!isJSONRPCRequest(message)) {
      // Cancellation names the caller's own ids, which mean nothing here; clients that stop
      // waiting close the HTTP request instead, which aborts the handler (below).
      if (isJSONRPCNotification(message) && message.method !== 'notifications/cancelled') this.onmessage?.(message, extra)
      return Promise.resolve(undefined)
    }
    const id = `d${++this.#next}`
    return new Promise((resolve) => {
      const pending: Pending = { originalId: message.id, resolve, onNotification: options.onNotification }
      this.#pending.set(id, pending)
      options.signal?.addEventListener(
        'abort',
        () => {
          if (!this.#pending.delete(id)) return
          this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'client disconnected' } })
          resolve(undefined)
        },
        { once: true },
      )
      this.onmessage?.({ ...(message as JSONRPCRequest), id }, extra)
    })
  }
}
