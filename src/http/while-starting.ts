import { createServer } from 'node:http'

export interface StartingListener {
  /** The port bound (the one asked for, or the one given for port 0). */
  port: number
  close(): Promise<void>
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({ status, body: JSON.stringify(body), headers: { 'content-type': 'application/json; charset=utf-8', ...headers } })

/**
 * Holds the port while the first start creates the embedded database, which takes seconds:
 * `/health` answers 200 (the process is up), `/ready` and everything else 503 with
 * Retry-After. It binds with SO_REUSEPORT so that the server proper can bind beside it
 * before it closes: the port never refuses connections, though one the kernel queued on the
 * placeholder in the instant it closes is reset (a client's retry reaches the server proper).
 */
export async function listenWhileStarting(host: string, port: number, reason: string): Promise<StartingListener> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!
    const answer = path.endsWith('/health')
      ? json(200, { status: 'starting' })
      : path.endsWith('/ready')
        ? json(503, { status: 'starting', error: reason }, { 'retry-after': '5' })
        : json(503, { error: 'temporarily_unavailable', error_description: `the server is starting (${reason}); retry shortly` }, { 'retry-after': '5' })
    response.writeHead(answer.status, { ...answer.headers, connection: 'close' }).end(answer.body)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port, reusePort: true }, () => resolve())
  })
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise((resolve) => {
        // Requests already being answered finish (each answer closes its connection).
        server.close(() => resolve())
        server.closeIdleConnections()
      }),
  }
}
