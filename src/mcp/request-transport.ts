import type {
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  MessageExtraInfo,
  RequestId,
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/server'

type Reply = JSONRPCMessage & { id: RequestId }

interface Pending {
  clientId: RequestId
  resolve(reply: Reply): void
  onNotification: ((notification: JSONRPCNotification) => void) | undefined
}

const isReply = (message: JSONRPCMessage): message is Reply => 'id' in message && ('result' in message || 'error' in message)
const isServerRequest = (message: JSONRPCMessage): message is JSONRPCRequest => 'id' in message && 'method' in message

/**
 * A transport that lets ONE long-lived MCP server answer every HTTP request, instead of
 * building a server and a transport per request. Each request hands its JSON-RPC message in
 * and awaits the reply. Ids are rewritten on the way in and restored on the way out,
 * because every client numbers its requests from 0 and concurrent requests must not meet.
 *
 * Stateless by construction: nothing survives a request, so any instance can answer any
 * request. Server-to-client requests (sampling, elicitation) need a session and are
 * answered at once with an error rather than left to time out.
 */
export class RequestTransport implements Transport {
  onclose?: () => void
  onerror?: (error: Error) => void
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void

  private nextId = 1
  private readonly pending = new Map<number, Pending>()

  async start() {}

  async close() {
    for (const [id, pending] of this.pending) {
      pending.resolve({ jsonrpc: '2.0', id: pending.clientId, error: { code: -32000, message: 'Server is shutting down' } } as Reply)
      this.pending.delete(id)
    }
    this.onclose?.()
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions) {
    if (isReply(message)) {
      const pending = this.pending.get(message.id as number)
      if (!pending) return
      this.pending.delete(message.id as number)
      pending.resolve({ ...message, id: pending.clientId })
      return
    }
    if (isServerRequest(message)) {
      // No channel back to the client outside a session: fail the server's request now.
      queueMicrotask(() =>
        this.onmessage?.({ jsonrpc: '2.0', id: message.id, error: { code: -32601, message: `${message.method} needs a session; this server is stateless` } }),
      )
      return
    }
    const related = options?.relatedRequestId
    if (related !== undefined) this.pending.get(related as number)?.onNotification?.(message as JSONRPCNotification)
  }

  /** Delivers a client request and resolves with the server's reply, under the client's own id. */
  request(message: JSONRPCRequest, extra: MessageExtraInfo, onNotification?: (n: JSONRPCNotification) => void): Promise<Reply> {
    const internalId = this.nextId++
    if (this.nextId === Number.MAX_SAFE_INTEGER) this.nextId = 1
    return new Promise<Reply>((resolve) => {
      this.pending.set(internalId, { clientId: message.id, resolve, onNotification })
      this.onmessage?.({ ...message, id: internalId }, extra)
    })
  }

  /** Delivers a client notification; there is nothing to wait for. */
  notify(message: JSONRPCNotification, extra: MessageExtraInfo) {
    this.onmessage?.(message, extra)
  }
}
