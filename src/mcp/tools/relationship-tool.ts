import { z } from 'zod'
import { asUser } from '../../db/as-user.ts'
import { ENTITY_TYPES, RELATIONSHIP_KINDS } from '../../entities/entity-types.ts'
import { MAX_PAGE_SIZE } from '../../entities/pagination.ts'
import { link, listRelationships, unlink } from '../../entities/relationship-store.ts'
import { defineTool } from '../tool-registry.ts'
import { requireFields } from './require-fields.ts'

const input = z
  .strictObject({
    operation: z.enum(['link', 'unlink', 'list']).describe('link two entities | unlink (by id, or by source_id + target_id + kind) | list (paged, filtered by any of the fields below)'),
    id: z.uuid().optional().describe('The relationship id, for unlink.'),
    source_type: z.enum(ENTITY_TYPES).optional().describe('Type of the source entity (link; list filter).'),
    source_id: z.uuid().optional().describe('Id of the source entity (link; unlink; list filter).'),
    target_type: z.enum(ENTITY_TYPES).optional().describe('Type of the target entity (link; list filter).'),
    target_id: z.uuid().optional().describe('Id of the target entity (link; unlink; list filter).'),
    kind: z
      .enum(RELATIONSHIP_KINDS)
      .optional()
      .describe('verifies (a test verifies a requirement) | derives_from | references | parent_of. Required for link; list filter.'),
    limit: z.number().int().min(1).max(MAX_PAGE_SIZE).optional().describe(`Page size for list, 1 to ${MAX_PAGE_SIZE}; default 50.`),
    cursor: z.string().min(1).max(512).optional().describe('For list: the next_cursor of the previous page.'),
    include_deleted: z.boolean().optional().describe('For list: also return removed links.'),
  })
  .superRefine((value, ctx) => {
    if (value.operation === 'link') requireFields(ctx, value, ['source_type', 'source_id', 'target_type', 'target_id', 'kind'], 'link')
    if (value.operation === 'unlink' && value.id === undefined) requireFields(ctx, value, ['source_id', 'target_id', 'kind'], 'unlink without id')
  })

export const relationshipTool = defineTool({
  name: 'relationship_tool',
  title: 'Relationships',
  description:
    'Link two entities of the same organization with a kind (verifies, derives_from, references, parent_of), remove a link, or list links by source, target or kind. ' +
    'Both entities must be visible to the caller; linking needs member rights or above.',
  input,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  run(args, { db, user }) {
    return asUser(db, user, async (tx) => {
      switch (args.operation) {
        case 'link':
          return link(tx, { source_type: args.source_type!, source_id: args.source_id!, target_type: args.target_type!, target_id: args.target_id!, kind: args.kind! })
        case 'unlink':
          return unlink(tx, args.id ? { id: args.id } : { source_id: args.source_id!, target_id: args.target_id!, kind: args.kind! })
        case 'list': {
          const filters = Object.fromEntries(
            (['source_type', 'source_id', 'target_type', 'target_id', 'kind'] as const).filter((k) => args[k] !== undefined).map((k) => [k, args[k]]),
          )
          return listRelationships(tx, { filters, limit: args.limit, cursor: args.cursor, includeDeleted: args.include_deleted })
        }
      }
    })
  },
})
