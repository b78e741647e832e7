import { z } from 'zod'
import type { UserContext } from '../../auth/user-context.ts'
import { defineTool } from '../tool-registry.ts'

/** The caller as the tools see them; never the token itself. */
export function describeUser(user: UserContext) {
  return {
    id: user.userId,
    email: user.email ?? null,
    role: user.role,
    mode: user.mode,
    expires_at: new Date(user.expiresAt * 1000).toISOString(),
    scopes: user.scopes,
    session_id: user.sessionId ?? null,
    aal: user.aal ?? null,
  }
}

export const whoamiTool = defineTool({
  name: 'whoami',
  title: 'Who am I',
  description: 'The identity behind this connection: user id, email, role, the auth mode that verified it, token expiry and scopes.',
  input: z.strictObject({}),
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(_args, { user }) {
    return describeUser(user)
  },
})
