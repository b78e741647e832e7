import type { Readable, Writable } from 'node:stream'
import { isJSONRPCRequest, ReadBuffer, serializeMessage, type JSONRPCMessage } from '@modelcontextprotocol/server'
import { AuthError } from '../auth/errors.ts'
import type { AuthMode } from '../auth/mode.ts'
import type { Config } from '../config.ts'
import type { Db } from '../db/db.ts'
import { openDatabase } from '../db/open.ts'
import { failedAuthInfo, toAuthInfo } from './auth-info.ts'
import { takeLegacyToken } from './authenticate.ts'
import { requireToolScopes } from './tool-scopes.ts'
import { jsonRpcError } from './http-common.ts'
import { createMcpCore, type McpCore } from './mcp-server.ts'

// The methods that act for a user; the handshake and listings need no token on stdio.
const USER_METHODS = new Set(['tools/call', 'resources/read'])

export type StderrLog = (level: 'info' | 'warn' | 'error', message: string, detail?: Record<string, unknown>) => void

/** stdout belongs to JSON-RPC on stdio: logs are JSON lines on stderr. */
export const stderrLog: StderrLog = (level, message, detail) => {
  process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...detail })}\n`)
}

export interface StdioOptions {
  core: McpCore
  authMode: AuthMode | undefined
  /** MCP_AUTH_TOKEN: used by tool calls without an `auth_token` argument. */
  token: string | undefined
  input: Readable
  output: Writable
  log: StderrLog
}

async function authInfoFor(message: JSONRPCMessage, options: StdioOptions) {
  const token = takeLegacyToken(message) ?? options.token
  if (!isJSONRPCRequest(message) || !USER_METHODS.has(message.method)) return undefined
  if (!options.authMode) return failedAuthInfo('this server has no auth mode configured; it cannot verify tokens')
  if (!token) return failedAuthInfo('authentication required: set MCP_AUTH_TOKEN or pass the auth_token argument')
  try {
    const user = await options.authMode.authenticate(token)
    requireToolScopes(user, message)
    return toAuthInfo(user)
  } catch (error) {
    if (error instanceof AuthError) return failedAuthInfo(`authentication failed: ${error.message}`)
    throw error
  }
}

/** Serves MCP over newline-delimited JSON-RPC on `input`/`output` until `input` ends. */
export function serveStdio(options: StdioOptions): Promise<void> {
  const { core, input, output, log } = options
  const buffer = new ReadBuffer()
  const inFlight = new Set<Promise<void>>()
  const write = (message: JSONRPCMessage | ReturnType<typeof jsonRpcError>) => output.write(serializeMessage(message as JSONRPCMessage))

  const handle = async (message: JSONRPCMessage) => {
    try {
      const authInfo = await authInfoFor(message, options)
      const response = await core.dispatch(message, { authInfo, onNotification: write })
      if (response) write(response)
    } catch (error) {
      log('error', 'stdio message failed', { error: String(error) })
      if (isJSONRPCRequest(message)) write(jsonRpcError(-32603, 'internal error', message.id))
    }
  }

  return new Promise((resolve) => {
    input.on('data', (chunk: Buffer) => {
      try {
        buffer.append(chunk)
      } catch (error) {
        write(jsonRpcError(-32700, `Parse error: ${(error as Error).message}`))
        return
      }
      for (;;) {
        let message: JSONRPCMessage | null
        try {
          message = buffer.readMessage()
        } catch {
          write(jsonRpcError(-32700, 'Parse error: each line must be one JSON-RPC 2.0 message'))
          continue
        }
        if (!message) break
        const work = handle(message).finally(() => inFlight.delete(work))
        inFlight.add(work)
      }
    })
    input.on('end', () => {
      Promise.allSettled([...inFlight]).then(() => resolve())
    })
  })
}

/** `TRANSPORT=stdio`: one process per client, speaking MCP on stdin/stdout. */
export async function runStdio(config: Config, deps: { authMode: AuthMode | undefined; db?: Db }): Promise<void> {
  const db = deps.db ?? (await openDatabase(config))
  const core = await createMcpCore({ db, logError: (error, message) => stderrLog('error', message, { error: String(error) }) })
  stderrLog('info', 'atoms-mcp serving MCP on stdio', { database: db.kind, auth_mode: config.authMode, token: config.mcpAuthToken ? 'from MCP_AUTH_TOKEN' : 'none' })
  try {
    await serveStdio({ core, authMode: deps.authMode, token: config.mcpAuthToken, input: process.stdin, output: process.stdout, log: stderrLog })
  } finally {
    await core.close()
    await deps.authMode?.close?.()
    if (!deps.db) await db.close()
  }
}
