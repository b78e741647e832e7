import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface LoadBalancer {
  url: string
  /** The instances requests go to, in turn; may be set after the balancer listens. */
  setTargets(urls: string[]): void
  close(): Promise<void>
}

/**
 * A round-robin HTTP proxy on loopback, the load balancer in front of several instances:
 * their public URL (BASE_URL) is this one, so tokens they issue name one issuer whichever
 * instance signed them. It keeps no affinity, which legacy /sse sessions would need.
 */
export async function startLoadBalancer(): Promise<LoadBalancer> {
  let targets: URL[] = []
  let next = 0
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const target = targets[next++ % Math.max(targets.length, 1)]
    if (!target) {
      outgoing.writeHead(503, { 'retry-after': '1' }).end()
      return
    }
    const forwarded = httpRequest(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(outgoing)
      },
    )
    forwarded.on('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502)
      outgoing.end()
    })
    incoming.pipe(forwarded)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setTargets(urls) {
      targets = urls.map((url) => new URL(url))
    },
    close() {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
