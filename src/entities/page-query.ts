import type { Queryable } from '../db/db.ts'
import { EntityError, guarded } from './errors.ts'
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, MAX_PAGE_SIZE } from './pagination.ts'

export type Row = Record<string, unknown>

export interface Page {
  items: Row[]
  /** Pass back as `cursor` for the next page; null on the last page. */
  next_cursor: string | null
}

export interface PageRequest {
  table: string
  columns: readonly string[]
  /** SQL conditions joined with `and`; `$n` placeholders refer to `params`. */
  where: string[]
  params: unknown[]
  limit: number | undefined
  cursor: string | undefined
  includeDeleted: boolean | undefined
}

/**
 * One page in `(created_at, id)` order, a total order that new rows never reshuffle: keyset
 * pagination, so a page costs the same at row 10 and at row 100,000.
 */
export async function pageQuery(tx: Queryable, request: PageRequest): Promise<Page> {
  const limit = pageSize(request.limit)
  const where = [...request.where]
  const params = [...request.params]
  if (!request.includeDeleted) where.push('deleted_at is null')
  if (request.cursor !== undefined) {
    const cursor = decodeCursor(request.cursor)
    params.push(cursor.createdAt, cursor.id)
    where.push(`(created_at, id) > ($${params.length - 1}::timestamptz, $${params.length}::uuid)`)
  }
  params.push(limit + 1)
  const sql = `select ${request.columns.join(', ')}, created_at::text as page_key
    from ${request.table} ${where.length ? `where ${where.join(' and ')}` : ''}
    order by created_at, id limit $${params.length}`
  const { rows } = await guarded(() => tx.query(sql, params))
  const more = rows.length > limit
  const items = rows.slice(0, limit)
  const last = items.at(-1)
  const next_cursor = more && last ? encodeCursor({ createdAt: String(last.page_key), id: String(last.id) }) : null
  for (const row of items) delete row.page_key
  return { items, next_cursor }
}

export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new EntityError('invalid', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`)
  }
  return limit
}
