import { ProtocolError, ProtocolErrorCode, type Tool, type ToolAnnotations } from '@modelcontextprotocol/server'
import { z } from 'zod'
import type { UserContext } from '../auth/user-context.ts'
import type { Db } from '../db/db.ts'
import type { UsageTracker } from './usage.ts'

export interface ToolContext {
  user: UserContext
  db: Db
  usage: UsageTracker
}

/** One tool: its contract (zod, published as JSON Schema) and what it does. */
export interface ToolDefinition<Input extends z.ZodType<Record<string, unknown>> = z.ZodType<Record<string, unknown>>> {
  name: string
  title: string
  description: string
  input: Input
  annotations?: ToolAnnotations
  run(input: z.infer<Input>, context: ToolContext): Promise<unknown>
}

export function defineTool<Input extends z.ZodType<Record<string, unknown>>>(tool: ToolDefinition<Input>): ToolDefinition {
  return tool as unknown as ToolDefinition
}

function jsonSchemaOf(schema: z.ZodType): Tool['inputSchema'] {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
  return json as Tool['inputSchema']
}

/**
 * The tools, built once: descriptors are computed at start so `tools/list` costs nothing, and
 * `call` is the single path every surface (MCP, REST, stdio) takes into a tool.
 */
export class ToolRegistry {
  readonly descriptors: Tool[]
  readonly #tools: Map<string, ToolDefinition>
  readonly #deps: { db: Db; usage: UsageTracker }

  constructor(tools: ToolDefinition[], deps: { db: Db; usage: UsageTracker }) {
    this.#tools = new Map(tools.map((tool) => [tool.name, tool]))
    this.#deps = deps
    this.descriptors = tools.map((tool) => ({
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: jsonSchemaOf(tool.input),
      ...(tool.annotations ? { annotations: tool.annotations } : {}),
    }))
  }

  has(name: string): boolean {
    return this.#tools.has(name)
  }

  /**
   * Malformed calls (unknown tool, arguments against the schema) throw `ProtocolError` -32602.
   * Refusals the user can act on throw `EntityError`, `NotAuthenticatedError` or
   * `UsageLimitError` (a call past the caller's limit); `user` is
   * resolved lazily so that a malformed call is reported as such even without a token.
   */
  async call(name: string, args: unknown, user: () => UserContext): Promise<unknown> {
    const tool = this.#tools.get(name)
    if (!tool) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `unknown tool ${JSON.stringify(name)}; call tools/list for the available tools`)
    const parsed = tool.input.safeParse(args ?? {})
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : 'arguments'}: ${issue.message}`)
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `invalid arguments for ${name}: ${problems.join('; ')}`)
    }
    const caller = user()
    // The in-process counter answers synchronously; only Redis costs a wait.
    const counted = this.#deps.usage.hit(caller.userId)
    if (counted) await counted
    return tool.run(parsed.data, { user: caller, ...this.#deps })
  }
}
