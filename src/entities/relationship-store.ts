import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import type { Queryable } from '../db/db.ts'
import { readEntity } from './entity-store.ts'
import { filterClauses } from './entity-store.ts'
import { ENTITY_TYPES, RELATIONSHIP_KINDS, type EntityType } from './entity-types.ts'
import { EntityError, guarded, notFound } from './errors.ts'
import { pageQuery, type Page, type Row } from './page-query.ts'

const TABLE = 'atoms.relationships'
const COLUMNS = ['id', 'organization_id', 'source_type', 'source_id', 'target_type', 'target_id', 'kind', 'created_by', 'created_at', 'updated_at', 'deleted_at'] as const
const FILTERS = {
  source_id: z.uuid(),
  target_id: z.uuid(),
  source_type: z.enum(ENTITY_TYPES),
  target_type: z.enum(ENTITY_TYPES),
  kind: z.enum(RELATIONSHIP_KINDS),
}

export interface Link {
  source_type: EntityType
  source_id: string
  target_type: EntityType
  target_id: string
  kind: (typeof RELATIONSHIP_KINDS)[number]
}

async function organizationOf(tx: Queryable, type: EntityType, id: string): Promise<string> {
  const row = await readEntity(tx, type, id)
  return String(type === 'organization' ? row.id : row.organization_id)
}

async function readRelationship(tx: Queryable, id: string, includeDeleted = false): Promise<Row> {
  const { rows } = await guarded(() => tx.query(`select ${COLUMNS.join(', ')} from ${TABLE} where id = $1 ${includeDeleted ? '' : 'and deleted_at is null'}`, [id]))
  if (!rows[0]) throw notFound('relationship', id)
  return rows[0]
}

export async function link(tx: Queryable, input: Link): Promise<Row> {
  if (input.source_id === input.target_id) throw new EntityError('invalid', 'an entity cannot be linked to itself')
  const organization = await organizationOf(tx, input.source_type, input.source_id)
  if ((await organizationOf(tx, input.target_type, input.target_id)) !== organization) {
    throw new EntityError('invalid', 'both entities must belong to the same organization')
  }
  const id = randomUUID()
  await guarded(() =>
    tx.query(`insert into ${TABLE} (id, organization_id, source_type, source_id, target_type, target_id, kind) values ($1, $2, $3, $4, $5, $6, $7)`, [
      id, organization, input.source_type, input.source_id, input.target_type, input.target_id, input.kind,
    ]),
  ).catch((error) => {
    if (error instanceof EntityError && error.kind === 'conflict') throw new EntityError('conflict', `these entities are already linked by ${input.kind}`)
    throw error
  })
  return readRelationship(tx, id)
}

/** Removes a link, named by its id or by its source, target and kind. */
export async function unlink(tx: Queryable, by: { id: string } | Omit<Link, 'source_type' | 'target_type'>): Promise<Row> {
  const [condition, params] = 'id' in by
    ? ['id = $1', [by.id]]
    : ['source_id = $1 and target_id = $2 and kind = $3', [by.source_id, by.target_id, by.kind]]
  const { rows } = await guarded(() => tx.query(`update ${TABLE} set deleted_at = now() where ${condition} and deleted_at is null returning id`, params))
  if (rows[0]) return readRelationship(tx, String(rows[0].id), true)
  const visible = await guarded(() => tx.query(`select 1 from ${TABLE} where ${condition} and deleted_at is null`, params))
  if (visible.rows.length) throw new EntityError('forbidden', 'your role in this organization does not allow removing this relationship')
  throw notFound('relationship')
}

export function listRelationships(tx: Queryable, options: { filters?: Record<string, unknown>; limit?: number; cursor?: string; includeDeleted?: boolean }): Promise<Page> {
  const { where, params } = filterClauses(FILTERS, options.filters)
  return pageQuery(tx, { table: TABLE, columns: COLUMNS, where, params, limit: options.limit, cursor: options.cursor, includeDeleted: options.includeDeleted })
}
