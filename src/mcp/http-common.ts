import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { DatabaseUnavailableError } from '../db/db.ts'
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/server'
import { isMessage } from './messages.ts'

/** A JSON-RPC error object not tied to a request the server could read. */
export function jsonRpcError(code: number, message: string, id: RequestId | null = null) {
  return { jsonrpc: '2.0' as const, id, error: { code, message } }
}

/** The JSON-RPC error data marking an answer the database's absence caused: retry shortly. */
export const DATABASE_UNAVAILABLE = { message: 'the database cannot be reached; retry shortly', data: { retry_after_seconds: 5 } }

/**
 * True when every answer is that error: the HTTP status is then 503 with Retry-After, as
 * for any other route, so clients and load balancers know to retry.
 */
export function onlyUnavailable(responses: unknown[]): boolean {
  const retryAfter = (r: unknown) => (r as { error?: { data?: { retry_after_seconds?: unknown } } })?.error?.data?.retry_after_seconds
  return responses.length > 0 && responses.every((r) => retryAfter(r) === DATABASE_UNAVAILABLE.data.retry_after_seconds)
}

/**
 * Takes the response over for a text/event-stream. Headers already set on the reply (CORS)
 * are copied first: after `hijack` Fastify no longer writes them.
 */
export function openEventStream(reply: FastifyReply) {
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value as string)
  reply.hijack()
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' })
  reply.raw.flushHeaders()
  return {
    send(event: string, data: JSONRPCMessage | string) {
      if (reply.raw.writableEnded || reply.raw.destroyed) return
      reply.raw.write(`event: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`)
    },
    comment(text: string) {
      if (!reply.raw.writableEnded && !reply.raw.destroyed) reply.raw.write(`: ${text}\n\n`)
    },
    end() {
      if (!reply.raw.writableEnded) reply.raw.end()
    },
  }
}

/**
 * Errors Fastify raises before a handler runs (unparsable JSON, wrong content type, body too
 * large), as a status and a message; the caller shapes the body for its protocol.
 */
export function requestErrorStatus(error: FastifyError): { status: number; message: string; parse: boolean } {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
  const parse = error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error instanceof SyntaxError
  return { status, message: status === 500 ? 'unexpected failure' : error.message, parse }
}

/** The JSON-RPC messages of a POST body (one or a batch), or undefined when it is not that. */
export function parseMessages(body: unknown): JSONRPCMessage[] | undefined {
  const items = Array.isArray(body) ? body : [body]
  if (items.length === 0) return undefined
  const messages: JSONRPCMessage[] = []
  for (const item of items) {
    if (!isMessage(item)) return undefined
    // The original keeps what the client sent (a parsed copy would drop unknown keys).
    messages.push(item)
  }
  return messages
}

/** Errors before or around an MCP handler, answered as JSON-RPC errors with a fitting status. */
export async function jsonRpcErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof DatabaseUnavailableError) {
    return reply.code(503).header('retry-after', String(DATABASE_UNAVAILABLE.data.retry_after_seconds)).send(jsonRpcError(-32603, DATABASE_UNAVAILABLE.message))
  }
  const { status, message, parse } = requestErrorStatus(error as FastifyError)
  if (status === 500) request.log.error({ err: error }, 'mcp request failed')
  return reply.code(status).send(jsonRpcError(parse ? -32700 : status === 500 ? -32603 : -32600, parse ? `Parse error: ${message}` : message))
}
