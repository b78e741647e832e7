import t from 'tap'
import { InsufficientScopeError } from '../../src/auth/errors.ts'
import type { UserContext } from '../../src/auth/user-context.ts'
import { READ_OPERATIONS, requireToolScopes, scopesForToolCall } from '../../src/mcp/tool-scopes.ts'
import { TOOLS } from '../../src/mcp/tools/index.ts'

const user = (scopes: string[]) => ({ userId: 'u', scopes }) as unknown as UserContext
const call = (name: string, args: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } })

t.test('every tool is classified, so a new tool cannot slip past the scopes', async (t) => {
  t.same(Object.keys(READ_OPERATIONS).sort(), TOOLS.map((tool) => tool.name).sort())
})

t.test('reads need atoms:read; writes need atoms:read and atoms:write', async (t) => {
  const read = ['atoms:read']
  const write = ['atoms:read', 'atoms:write']
  for (const operation of ['read', 'list', 'search']) t.same(scopesForToolCall('entity_tool', { operation }), read, `entity ${operation}`)
  for (const operation of ['create', 'update', 'delete', 'undelete', undefined, 7]) t.same(scopesForToolCall('entity_tool', { operation }), write, `entity ${operation}`)
  t.same(scopesForToolCall('relationship_tool', { operation: 'list' }), read)
  for (const operation of ['link', 'unlink']) t.same(scopesForToolCall('relationship_tool', { operation }), write, operation)
  for (const operation of ['list_organizations', 'get_context', 'list_invitations']) t.same(scopesForToolCall('workspace_tool', { operation }), read, operation)
  for (const operation of ['set_context', 'add_member', 'remove_member', 'accept_invitation', 'decline_invitation']) t.same(scopesForToolCall('workspace_tool', { operation }), write, operation)
  t.same(scopesForToolCall('whoami', {}), read)
  t.same(scopesForToolCall('get_api_usage', undefined), read)
})

t.test('requireToolScopes', async (t) => {
  const readOnly = user(['atoms:read'])
  t.doesNotThrow(() => requireToolScopes(readOnly, call('entity_tool', { operation: 'list' })))
  t.doesNotThrow(() => requireToolScopes(readOnly, { jsonrpc: '2.0', id: 1, method: 'tools/list' }), 'not a tool call')
  let refusal: unknown
  try {
    requireToolScopes(readOnly, call('entity_tool', { operation: 'create' }))
  } catch (error) {
    refusal = error
  }
  t.ok(refusal instanceof InsufficientScopeError)
  t.same((refusal as InsufficientScopeError).requiredScopes, ['atoms:read', 'atoms:write'], 'names every scope the call needs')
  t.throws(() => requireToolScopes(readOnly, [call('whoami'), call('relationship_tool', { operation: 'link' })]), InsufficientScopeError, 'a batch')
  t.throws(() => requireToolScopes(readOnly, { tool: 'workspace_tool', arguments: { operation: 'add_member' } }), InsufficientScopeError, 'REST')
  const writeOnly = user(['atoms:write'])
  t.throws(() => requireToolScopes(writeOnly, call('whoami')), InsufficientScopeError, 'write alone does not read')
  const readResource = { jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'user://profile' } }
  t.throws(() => requireToolScopes(writeOnly, readResource), InsufficientScopeError, 'nor read resources')
  t.doesNotThrow(() => requireToolScopes(readOnly, readResource))
  t.doesNotThrow(() => requireToolScopes(user(['atoms:read', 'atoms:write']), call('entity_tool', { operation: 'delete' })))
  t.doesNotThrow(() => requireToolScopes(user([]), call('entity_tool', { operation: 'delete' })), 'a Supabase session token has no scopes to hold it to')
  t.doesNotThrow(() => requireToolScopes(user(['openid', 'email']), call('entity_tool', { operation: 'delete' })), "nor a token of Supabase's OAuth server")
})
