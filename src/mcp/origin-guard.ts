import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.ts'
import { isLoopback } from '../http/loopback.ts'

export { isLoopback }

function parseHostname(value: string): string | undefined {
  try {
    return new URL(value.includes('://') ? value : `http://${value}`).hostname
  } catch {
    return undefined
  }
}

// A server sees few distinct Host and Origin values; parsing each of them once, not once per
// request, keeps a URL parse off every call. Bounded, so odd values cannot grow it.
const MAX_REMEMBERED_HOSTS = 256
const hostnames = new Map<string, string | undefined>()

function hostnameOf(value: string): string | undefined {
  if (hostnames.has(value)) return hostnames.get(value)
  const hostname = parseHostname(value)
  if (hostnames.size >= MAX_REMEMBERED_HOSTS) hostnames.clear()
  hostnames.set(value, hostname)
  return hostname
}

/**
 * DNS-rebinding protection for a server bound to loopback: a web page from elsewhere may make
 * the browser reach 127.0.0.1, but its Host and Origin still name the other site. Local tools
 * (any port on a loopback name), the public URL and configured CORS origins pass.
 * Returns undefined when the server is not on loopback (then it sits behind real DNS).
 */
export function originGuard(config: Pick<Config, 'host' | 'baseUrl' | 'corsOrigins'>) {
  if (!isLoopback(config.host)) return undefined
  const publicHost = new URL(config.baseUrl).hostname
  const allowedOrigins = new Set([new URL(config.baseUrl).origin, ...config.corsOrigins.filter((o) => o !== '*')])
  const allowedHost = (hostname: string | undefined) => hostname !== undefined && (isLoopback(hostname) || hostname === publicHost)
  return async function checkOrigin(request: FastifyRequest, reply: FastifyReply) {
    const origin = request.headers.origin
    const hostOk = allowedHost(hostnameOf(request.headers.host ?? ''))
    const originOk = origin === undefined || allowedOrigins.has(origin) || (origin !== 'null' && allowedHost(hostnameOf(origin)))
    if (hostOk && originOk) return
    await reply.code(403).send({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Forbidden: this Origin or Host may not use the MCP endpoint' } })
  }
}
