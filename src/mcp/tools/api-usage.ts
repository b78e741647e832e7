import { z } from 'zod'
import { defineTool } from '../tool-registry.ts'

export const apiUsageTool = defineTool({
  name: 'get_api_usage',
  title: 'API usage',
  description: 'How many tool calls you made in the current rate-limit window (this one included), the limit, what remains and when the window resets.',
  input: z.strictObject({}),
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(_args, { user, usage }) {
    return usage.peek(user.userId)
  },
})
