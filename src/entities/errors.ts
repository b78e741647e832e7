/**
 * Why an entity operation was refused, in words the caller can act on. Tools return these as
 * results with `isError: true`; the REST surface maps `kind` to an HTTP status.
 */
export type EntityErrorKind = 'not_found' | 'forbidden' | 'invalid' | 'conflict'

export class EntityError extends Error {
  readonly kind: EntityErrorKind
  constructor(kind: EntityErrorKind, message: string) {
    super(message)
    this.name = 'EntityError'
    this.kind = kind
  }
}

export const notFound = (what: string, id?: string) => new EntityError('not_found', id ? `${what} ${id} was not found` : `${what} was not found`)

const OWN_MESSAGES = new Set([
  'project not found',
  'document not found in this project',
  'only an owner can grant or remove the owner role',
  'an organization keeps at least one owner',
  'only an owner can delete an organization',
  'invitation not found',
])

/**
 * Turns a database refusal into an `EntityError`. Messages are fixed per code: Postgres texts
 * can name tables, constraints or values the caller should not learn.
 */
export function fromDatabaseError(error: any): never {
  // The migrations raise these themselves; they are safe and more precise than the defaults.
  const own = OWN_MESSAGES.has(error?.message) ? (error.message as string) : undefined
  switch (error?.code) {
    case '42501':
      throw new EntityError('forbidden', own ?? 'your role in this organization does not allow this change')
    case 'P0002':
      throw new EntityError('not_found', own ?? 'a referenced entity was not found')
    case '23503':
      throw new EntityError('not_found', 'a referenced entity was not found')
    case '23505':
      throw new EntityError('conflict', 'an entity with these unique values already exists')
    case '23514':
      throw new EntityError('invalid', own ?? 'a field has a value outside what it accepts')
    case '23502':
    case '22001':
    case '22007':
    case '22008':
    case '22P02':
      throw new EntityError('invalid', 'a field has a value of the wrong form')
    // A NUL character, or one the database's encoding cannot hold: PostgreSQL text cannot store it.
    case '22021':
    case '22P05':
      throw new EntityError('invalid', 'a field holds a character the database cannot store (such as NUL)')
    default:
      throw error
  }
}

/** Runs a statement, turning the database's refusals into `EntityError`s. */
export async function guarded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    if (error instanceof EntityError) throw error
    fromDatabaseError(error)
  }
}
