import type { FastifyServerOptions } from 'fastify'
import type { Config } from './config.ts'

/** Paths pino blanks wherever they appear in a log line: credentials never reach the logs. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers.apikey',
  'res.headers["set-cookie"]',
  '*.password',
  '*.access_token',
  '*.refresh_token',
  '*.code',
  '*.code_verifier',
  '*.auth_code',
  '*.client_secret',
  '*.token',
  '*.auth_token',
]

export function loggerOptions(config: Pick<Config, 'logLevel' | 'transport'>): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      // Query strings carry codes and tokens on OAuth redirects; log the path only.
      req(request) {
        return { method: request.method, url: request.url.split('?')[0], remoteAddress: request.ip }
      },
    },
    // stdio transport owns stdout for JSON-RPC; logs must go elsewhere there.
    ...(config.transport === 'stdio' ? { stream: process.stderr } : {}),
  } as FastifyServerOptions['logger']
}
