import type { ToolDefinition } from '../tool-registry.ts'
import { apiUsageTool } from './api-usage.ts'
import { entityTool } from './entity-tool.ts'
import { relationshipTool } from './relationship-tool.ts'
import { whoamiTool } from './whoami.ts'
import { workspaceTool } from './workspace-tool.ts'

export const TOOLS: ToolDefinition[] = [entityTool, relationshipTool, workspaceTool, whoamiTool, apiUsageTool]
