import { z } from 'zod'
import { asUser, asUserOnce } from '../../db/as-user.ts'
import { createEntity, deleteEntity, listEntities, readEntity, searchEntities, updateEntity } from '../../entities/entity-store.ts'
import { DATA_FIELDS_HELP, ENTITIES, ENTITY_TYPES } from '../../entities/entity-types.ts'
import { MAX_PAGE_SIZE } from '../../entities/pagination.ts'
import { contextDefaults } from '../../entities/workspace-store.ts'
import { defineTool } from '../tool-registry.ts'
import { requireFields } from './require-fields.ts'

const OPERATIONS = ['create', 'read', 'update', 'delete', 'list', 'search'] as const
const FILTERS_HELP = Object.entries(ENTITIES).map(([type, def]) => `${type}: ${Object.keys(def.filters).join(', ')}`).join('; ')

const input = z
  .strictObject({
    operation: z.enum(OPERATIONS).describe('create | read | update | delete (soft: the entity is kept with deleted_at set) | list (paged) | search (full text)'),
    entity_type: z.enum(ENTITY_TYPES).describe('Which kind of entity. Organizations contain projects; projects contain documents, requirements and tests.'),
    id: z.uuid().optional().describe('The entity id; required for read, update and delete.'),
    data: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(`Fields for create (required fields must be given) and update (only the fields to change; the parent cannot change). ${DATA_FIELDS_HELP}. On create, organization_id/project_id default to the active context (workspace_tool set_context).`),
    filters: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .describe(`Equality filters for list and search. Accepted per type: ${FILTERS_HELP}.`),
    limit: z.number().int().min(1).max(MAX_PAGE_SIZE).optional().describe(`Page size for list and search, 1 to ${MAX_PAGE_SIZE}; default 50.`),
    cursor: z.string().min(1).max(512).optional().describe('For list: the next_cursor of the previous page, to continue from there. Pages are ordered by creation time, oldest first.'),
    query: z.string().min(1).max(500).optional().describe('For search: words to find in the title/name and the content/description (web search syntax: "quoted phrase", -excluded, or).'),
    include_deleted: z.boolean().optional().describe('Also return soft-deleted entities (read, list, search). Default false.'),
  })
  .superRefine((value, ctx) => {
    const needs: Record<(typeof OPERATIONS)[number], string[]> = {
      create: ['data'],
      read: ['id'],
      update: ['id', 'data'],
      delete: ['id'],
      list: [],
      search: ['query'],
    }
    requireFields(ctx, value, needs[value.operation], `operation ${value.operation}`)
  })

export const entityTool = defineTool({
  name: 'entity_tool',
  title: 'Entities',
  description:
    'Create, read, update, delete (soft), list or search the organizations, projects, documents, requirements and tests the caller can access. ' +
    'Results are the entity rows as JSON; list and search return {items, next_cursor}. Access follows organization membership: viewers read, members and above write.',
  input,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  run(args, { db, user }) {
    const type = args.entity_type
    const page = { filters: args.filters, limit: args.limit, cursor: args.cursor, includeDeleted: args.include_deleted }
    // Reads are one statement each, sent with the caller's role and claims in one call.
    switch (args.operation) {
      case 'read':
        return asUserOnce(db, user, (tx) => readEntity(tx, type, args.id!, args.include_deleted))
      case 'list':
        return asUserOnce(db, user, (tx) => listEntities(tx, type, page))
      case 'search':
        return asUserOnce(db, user, (tx) => searchEntities(tx, type, args.query, page))
    }
    return asUser(db, user, async (tx) => {
      switch (args.operation) {
        case 'create':
          return createEntity(tx, type, args.data, await contextDefaults(tx))
        case 'update':
          return updateEntity(tx, type, args.id!, args.data)
        case 'delete':
          return deleteEntity(tx, type, args.id!)
      }
    })
  },
})
