import type { FastifyServerOptions } from 'fastify'
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
