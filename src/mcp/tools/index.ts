import type { ToolDefinition } from '../tool-registry.ts'
import { apiUsageTool } from './api-usage.ts'
import { entityTool } from './entity-tool.ts'
import { relationshipTool } from './relationship-tool.ts'
import { whoamiTool } from './whoami.ts'
import { workspaceTool } from './workspace-tool.ts'

// whoami first: it takes no arguments, so a client (or a conformance probe) trying the first tool listed gets an answer.
export const TOOLS: ToolDefinition[] = [whoamiTool, entityTool, relationshipTool, workspaceTool, apiUsageTool]
