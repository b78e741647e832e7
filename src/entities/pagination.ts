import { EntityError } from './errors.ts'

export const DEFAULT_PAGE_SIZE = 50
export const MAX_PAGE_SIZE = 200

/** Where a page ends: the sort key of its last row, `(created_at, id)`, opaque to callers. */
export interface Cursor {
  createdAt: string
  id: string
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

// created_at travels as Postgres text so that microseconds survive (a JS Date keeps milliseconds).
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url')
}

export function decodeCursor(value: string): Cursor {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))
    if (typeof createdAt === 'string' && TIMESTAMP.test(createdAt) && typeof id === 'string' && UUID.test(id)) {
      return { createdAt, id }
    }
  } catch {
    /* reported below */
  }
  throw new EntityError('invalid', 'cursor is not valid; pass the next_cursor returned by the previous list call')
}
