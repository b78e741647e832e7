import { InsufficientScopeError } from '../auth/errors.ts'
import type { UserContext } from '../auth/user-context.ts'
import { RESOURCE_SCOPES } from '../oauth/scopes.ts'

const READ = ['atoms:read'] as const
const WRITE = ['atoms:read', 'atoms:write'] as const

/**
 * The calls that only read, per tool; any other operation of a tool changes data and needs
 * `atoms:write` (with `atoms:read`: a write answers with what it wrote). Every tool is
 * listed (a test holds this table to the registry), so a new operation needs write until
 * it is listed here.
 */
export const READ_OPERATIONS: Record<string, readonly string[] | 'all'> = {
  entity_tool: ['read', 'list', 'search'],
  relationship_tool: ['list'],
  workspace_tool: ['list_organizations', 'get_context', 'list_invitations'],
  whoami: 'all',
  get_api_usage: 'all',
}

/** The scopes one tool call needs. A name that is no tool needs read: the registry refuses it anyway. */
export function scopesForToolCall(name: string, args: unknown): readonly string[] {
  const reads = READ_OPERATIONS[name]
  if (reads === undefined || reads === 'all') return READ
  const operation = (args as { operation?: unknown } | null | undefined)?.operation
  return typeof operation === 'string' && reads.includes(operation) ? READ : WRITE
}

/**
 * The calls of a request body that reach data: JSON-RPC `tools/call` messages (one or a
 * batch), a REST `{tool, arguments}`, and `resources/read` (entities as context), which reads.
 */
function toolCallsIn(body: unknown): Array<{ name: unknown; args: unknown }> {
  const calls: Array<{ name: unknown; args: unknown }> = []
  for (const message of Array.isArray(body) ? body : [body]) {
    if (message === null || typeof message !== 'object') continue
    const m = message as Record<string, any>
    if (m.method === 'tools/call') calls.push({ name: m.params?.name, args: m.params?.arguments })
    else if (m.method === 'resources/read') calls.push({ name: 'resources/read', args: undefined })
    else if (typeof m.tool === 'string') calls.push({ name: m.tool, args: m.arguments })
  }
  return calls
}

const isResourceScope = (scope: string) => (RESOURCE_SCOPES as readonly string[]).includes(scope)

/**
 * Refuses a request whose tool calls need scopes the token was not granted: 403
 * `insufficient_scope`, naming every scope the request needs, so one step-up covers it.
 * Only tokens issued with resource scopes (ours) are held to them; a Supabase session
 * token (bearer, jwt and simple modes) carries none and reaches every tool, as always.
 */
export function requireToolScopes(user: UserContext, body: unknown): void {
  if (!user.scopes.some(isResourceScope)) return
  const needed = new Set<string>()
  for (const { name, args } of toolCallsIn(body)) for (const scope of scopesForToolCall(String(name), args)) needed.add(scope)
  if ([...needed].some((scope) => !user.scopes.includes(scope))) throw new InsufficientScopeError([...needed])
}
