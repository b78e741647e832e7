import type { FastifyInstance } from 'fastify'

const PREFLIGHT_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, mcp-protocol-version',
  'access-control-max-age': '86400',
}

/**
 * Opens the endpoints a browser-based MCP client calls from its own page (discovery,
 * registration, token, revocation) to every origin, errors included. They use no cookies,
 * so a wildcard grants nothing a script could not do by itself. The sign-in pages stay closed.
 */
export function openToBrowsers(app: FastifyInstance, paths: Iterable<string>) {
  const open = new Set(paths)
  for (const path of open) {
    app.options(path, async (_request, reply) => reply.code(204).headers(PREFLIGHT_HEADERS).send())
  }
  app.addHook('onSend', async (request, reply, payload) => {
    if (open.has(request.routeOptions.url ?? '')) reply.header('access-control-allow-origin', '*')
    return payload
  })
}
