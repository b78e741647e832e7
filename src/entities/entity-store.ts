import { randomUUID } from 'node:crypto'
import type { z } from 'zod'
import type { Queryable } from '../db/db.ts'
import { ENTITIES, type EntityType } from './entity-types.ts'
import { EntityError, guarded, notFound } from './errors.ts'
import { pageQuery, pageSize, type Page, type Row } from './page-query.ts'

/**
 * Entity reads and writes. Every statement runs inside `asUser`, so row-level security has
 * already narrowed each table to what the caller may see; this code only has to tell
 * "not there" from "not allowed" for rows the caller can see.
 */

export interface ListOptions {
  filters?: Record<string, unknown>
  limit?: number
  cursor?: string
  includeDeleted?: boolean
}

/** Fields a new entity takes from the caller's workspace context when `data` omits them. */
export interface Defaults {
  organization_id?: string | null
  project_id?: string | null
}

const PARENT_TYPE = { organization_id: 'organization', project_id: 'project' } as const

export function parseData(schema: z.ZodType<Record<string, unknown>>, data: unknown): Record<string, unknown> {
  const parsed = schema.safeParse(data ?? {})
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map((issue) => `${['data', ...issue.path.map(String)].join('.')}: ${issue.message}`)
  throw new EntityError('invalid', problems.join('; '))
}

export async function readEntity(tx: Queryable, type: EntityType, id: string, includeDeleted = false): Promise<Row> {
  const def = ENTITIES[type]
  const { rows } = await guarded(() =>
    tx.query(`select ${def.columns.join(', ')} from ${def.table} where id = $1 ${includeDeleted ? '' : 'and deleted_at is null'}`, [id]),
  )
  if (!rows[0]) throw notFound(type, id)
  return rows[0]
}

export async function createEntity(tx: Queryable, type: EntityType, data: unknown, defaults: Defaults = {}): Promise<Row> {
  const def = ENTITIES[type]
  const input = { ...(data as Record<string, unknown>) }
  if (def.parent && input[def.parent] === undefined && defaults[def.parent]) input[def.parent] = defaults[def.parent]
  const fields = parseData(def.create, input)
  if (def.parent) await readEntity(tx, PARENT_TYPE[def.parent], String(fields[def.parent]))
  const id = randomUUID()
  const names = ['id', ...Object.keys(fields)]
  const values = [id, ...Object.values(fields)]
  // No RETURNING: a new organization is only readable once the trigger has made its creator owner.
  await guarded(() => tx.query(`insert into ${def.table} (${names.join(', ')}) values (${names.map((_, i) => `$${i + 1}`).join(', ')})`, values))
  return readEntity(tx, type, id)
}

export async function updateEntity(tx: Queryable, type: EntityType, id: string, data: unknown): Promise<Row> {
  const def = ENTITIES[type]
  const fields = parseData(def.update, data)
  const names = Object.keys(fields)
  const { rowCount } = await guarded(() =>
    tx.query(`update ${def.table} set ${names.map((n, i) => `${n} = $${i + 2}`).join(', ')} where id = $1 and deleted_at is null`, [id, ...Object.values(fields)]),
  )
  if (rowCount === 0) await explainUnchanged(tx, type, id)
  return readEntity(tx, type, id)
}

export async function deleteEntity(tx: Queryable, type: EntityType, id: string): Promise<Row> {
  const def = ENTITIES[type]
  const { rowCount } = await guarded(() => tx.query(`update ${def.table} set deleted_at = now() where id = $1 and deleted_at is null`, [id]))
  if (rowCount === 0) await explainUnchanged(tx, type, id)
  return readEntity(tx, type, id, true)
}

/**
 * A write that touched no row: either the row is invisible (then it does not exist as far as
 * the caller may know) or the caller may read it but not write it.
 */
async function explainUnchanged(tx: Queryable, type: EntityType, id: string): Promise<never> {
  await readEntity(tx, type, id)
  throw new EntityError('forbidden', `your role in this organization does not allow changing this ${type}`)
}

export function listEntities(tx: Queryable, type: EntityType, options: ListOptions): Promise<Page> {
  const def = ENTITIES[type]
  const { where, params } = filterClauses(def.filters, options.filters)
  return pageQuery(tx, { table: def.table, columns: def.columns, where, params, limit: options.limit, cursor: options.cursor, includeDeleted: options.includeDeleted })
}

export async function searchEntities(tx: Queryable, type: EntityType, query: string | undefined, options: ListOptions): Promise<Page> {
  const def = ENTITIES[type]
  if (!query?.trim()) throw new EntityError('invalid', 'search needs a non-empty query')
  if (options.cursor !== undefined) throw new EntityError('invalid', 'search returns the best matches in one page; raise limit or refine the query instead of passing cursor')
  const limit = pageSize(options.limit)
  const { where, params } = filterClauses(def.filters, options.filters)
  params.push(query)
  const q = `websearch_to_tsquery('english', $${params.length})`
  where.push(`search @@ ${q}`)
  if (!options.includeDeleted) where.push('deleted_at is null')
  params.push(limit)
  const { rows } = await guarded(() =>
    tx.query(`select ${def.columns.join(', ')} from ${def.table} where ${where.join(' and ')}
      order by ts_rank(search, ${q}) desc, created_at, id limit $${params.length}`, params),
  )
  return { items: rows, next_cursor: null }
}

/** Equality filters on the columns a type allows; anything else is the caller's mistake. */
export function filterClauses(allowed: Record<string, z.ZodType<unknown>>, filters: Record<string, unknown> | undefined) {
  const where: string[] = []
  const params: unknown[] = []
  for (const [name, value] of Object.entries(filters ?? {})) {
    // Own properties only: `constructor` or `__proto__` must not reach Object.prototype.
    const schema = Object.hasOwn(allowed, name) ? allowed[name] : undefined
    if (!schema) throw new EntityError('invalid', `filters.${name} is not a filter here; use one of ${Object.keys(allowed).join(', ')}`)
    const parsed = schema.safeParse(value)
    if (!parsed.success) throw new EntityError('invalid', `filters.${name}: ${parsed.error.issues[0]?.message ?? 'invalid value'}`)
    params.push(parsed.data)
    where.push(`${name} = $${params.length}`)
  }
  return { where, params }
}
