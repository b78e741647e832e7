import { z } from 'zod'
import { defineTool } from '../tool-registry.ts'

export const apiUsageTool = defineTool({
  name: 'get_api_usage',
  title: 'API usage',
  description: 'How many tool calls you made in the current one-minute window (this one included) and when it resets; where the server sets a limit, the limit and what remains (null when there is none).',
  input: z.strictObject({}),
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(_args, { user, usage }) {
    return usage.peek(user.userId)
  },
})
