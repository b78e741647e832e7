import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { Readable } from 'node:stream'

const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) }

/**
 * A `fetch` over node:http for calls to Supabase. Aborting it destroys the connection: the
 * built-in fetch leaves a connection to a server that never answers open after its signal
 * fires, so a hanging upstream would collect one open socket per timed-out call.
 */
export async function abortableFetch(input: string | URL | Request, init: RequestInit & { signal: AbortSignal }): Promise<Response> {
  const request = new Request(input, init)
  const url = new URL(request.url)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`unsupported protocol ${url.protocol}`)
  const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined
  const headers: Record<string, string> = {}
  request.headers.forEach((value, name) => (headers[name] = value))
  if (body) headers['content-length'] = String(body.length)
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise<Response>((resolve, reject) => {
    const outgoing = send(url, { method: request.method, headers, agent: agents[url.protocol as 'http:' | 'https:'], signal: init.signal }, (incoming: IncomingMessage) => {
      const responseHeaders = new Headers()
      for (const [name, value] of Object.entries(incoming.headers)) {
        for (const one of [value ?? []].flat()) responseHeaders.append(name, one)
      }
      const nullBody = incoming.statusCode === 204 || incoming.statusCode === 304 || request.method === 'HEAD'
      if (nullBody) incoming.resume()
      resolve(new Response(nullBody ? null : (Readable.toWeb(incoming) as ReadableStream), { status: incoming.statusCode ?? 502, headers: responseHeaders }))
    })
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}
