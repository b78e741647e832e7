import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'
import type { ChildLoggerOptions } from 'fastify/types/logger.js'
import type { Config } from './config.ts'

/** Keys whose values are credentials wherever they sit in a logged object. */
const SECRET_KEYS = ['password', 'access_token', 'refresh_token', 'code_verifier', 'auth_code', 'client_secret', 'token', 'auth_token', 'provider_token', 'provider_refresh_token']

/**
 * Paths pino blanks wherever they appear in a log line: credentials never reach the logs.
 * Pino's `*` matches one level only, so each key is listed at the top and two levels down.
 * `code` (an authorization code) is not followed deeper, where it is mostly an error code.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers.apikey',
  'res.headers["set-cookie"]',
  'code',
  '*.code',
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
]

export function loggerOptions(config: Pick<Config, 'logLevel' | 'transport'>): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      // Query strings carry codes and tokens on OAuth redirects; log the path only.
      // Anything logged under `req` passes through here, not only Fastify's requests.
      req(request) {
        const url = typeof request?.url === 'string' ? request.url.split('?')[0] : undefined
        return { method: request?.method, url, remoteAddress: request?.ip }
      },
    },
    // stdio transport owns stdout for JSON-RPC; logs must go elsewhere there.
    ...(config.transport === 'stdio' ? { stream: process.stderr } : {}),
  } as FastifyServerOptions['logger']
}

const LEVEL_METHODS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
const noop = () => {}

/**
 * Fastify's `childLoggerFactory`: the per-request child logger is made on the first line the
 * request actually logs. Making a pino child runs the redaction over its bindings, which
 * costs more than a small request itself; below the log level no line is ever written, so
 * no child is needed. Everything else reaches the real child.
 */
export function lazyChildLogger(parent: FastifyBaseLogger, bindings: Record<string, unknown>, options: ChildLoggerOptions): FastifyBaseLogger {
  const values = (parent as { levels?: { values?: Record<string, number> } }).levels?.values
  // Not pino: nothing is known about its levels, so the child is simply made.
  if (!values) return parent.child(bindings, options)
  let child: FastifyBaseLogger | undefined
  const real = () => (child ??= parent.child(bindings, options))
  const enabled = (level: string) => {
    const threshold = options.level !== undefined ? (values[options.level] ?? Number.POSITIVE_INFINITY) : (parent as unknown as { levelVal: number }).levelVal
    return values[level]! >= threshold
  }
  return new Proxy({} as FastifyBaseLogger, {
    get(_target, property) {
      if (child === undefined) {
        if (typeof property === 'string' && LEVEL_METHODS.has(property)) {
          if (!enabled(property)) return noop
          // Fastify checks the methods exist on every request; only a call makes the child.
          return (...args: unknown[]) => (real() as unknown as Record<string, (...a: unknown[]) => void>)[property]!(...args)
        }
        if (property === 'level') return options.level ?? parent.level
        if (property === 'child') return (more: Record<string, unknown>, moreOptions?: ChildLoggerOptions) => real().child(more, moreOptions)
      }
      const value = (real() as unknown as Record<PropertyKey, unknown>)[property]
      return typeof value === 'function' ? value.bind(child) : value
    },
    set(_target, property, value) {
      ;(real() as unknown as Record<PropertyKey, unknown>)[property] = value
      return true
    },
  })
}
