import { z } from 'zod'

export const ENTITY_TYPES = ['organization', 'project', 'document', 'requirement', 'test'] as const
export type EntityType = (typeof ENTITY_TYPES)[number]

export const MEMBER_ROLES = ['owner', 'admin', 'member', 'viewer'] as const
export const RELATIONSHIP_KINDS = ['verifies', 'derives_from', 'references', 'parent_of'] as const
export const REQUIREMENT_PRIORITIES = ['low', 'medium', 'high', 'critical'] as const
export const REQUIREMENT_STATUSES = ['draft', 'approved', 'implemented', 'verified'] as const
export const TEST_STATUSES = ['not_run', 'passed', 'failed'] as const

/** What the store needs to know about one table; everything else is generic. */
export interface EntityDefinition {
  table: string
  /** Columns returned to callers (never the search vector). */
  columns: readonly string[]
  /** The field that places a new row: its parent (or none for organizations). */
  parent: 'organization_id' | 'project_id' | undefined
  create: z.ZodType<Record<string, unknown>>
  update: z.ZodType<Record<string, unknown>>
  /** Columns `filters` may compare for equality. */
  filters: Record<string, z.ZodType<unknown>>
}

const COMMON = ['created_by', 'created_at', 'updated_at', 'deleted_at'] as const
const uuid = z.uuid()
const name = z.string().trim().min(1).max(200)
const title = z.string().trim().min(1).max(500)
const text = z.string().max(1_000_000)

const organization = z.strictObject({
  name,
  slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, up to 63 characters'),
  description: text.optional(),
})
const project = z.strictObject({ organization_id: uuid, name, description: text.optional() })
const document = z.strictObject({ project_id: uuid, title, content: text.optional() })
const requirement = z.strictObject({
  project_id: uuid,
  document_id: uuid.nullable().optional(),
  title,
  description: text.optional(),
  priority: z.enum(REQUIREMENT_PRIORITIES).optional(),
  status: z.enum(REQUIREMENT_STATUSES).optional(),
})
const test = z.strictObject({ project_id: uuid, title, description: text.optional(), status: z.enum(TEST_STATUSES).optional() })

/** An update may change any field except the parent, and must change at least one. */
function updateOf(schema: z.ZodObject<any>, parent: string | undefined) {
  const editable = parent ? schema.omit({ [parent]: true }) : schema
  return editable.partial().refine((data) => Object.keys(data).length > 0, 'data must name at least one field to change')
}

export const ENTITIES: Record<EntityType, EntityDefinition> = {
  organization: {
    table: 'atoms.organizations',
    columns: ['id', 'name', 'slug', 'description', ...COMMON],
    parent: undefined,
    create: organization,
    update: updateOf(organization, undefined),
    filters: { slug: z.string(), created_by: uuid },
  },
  project: {
    table: 'atoms.projects',
    columns: ['id', 'organization_id', 'name', 'description', ...COMMON],
    parent: 'organization_id',
    create: project,
    update: updateOf(project, 'organization_id'),
    filters: { organization_id: uuid, created_by: uuid },
  },
  document: {
    table: 'atoms.documents',
    columns: ['id', 'organization_id', 'project_id', 'title', 'content', ...COMMON],
    parent: 'project_id',
    create: document,
    update: updateOf(document, 'project_id'),
    filters: { organization_id: uuid, project_id: uuid, created_by: uuid },
  },
  requirement: {
    table: 'atoms.requirements',
    columns: ['id', 'organization_id', 'project_id', 'document_id', 'title', 'description', 'priority', 'status', ...COMMON],
    parent: 'project_id',
    create: requirement,
    update: updateOf(requirement, 'project_id'),
    filters: {
      organization_id: uuid,
      project_id: uuid,
      document_id: uuid,
      priority: z.enum(REQUIREMENT_PRIORITIES),
      status: z.enum(REQUIREMENT_STATUSES),
      created_by: uuid,
    },
  },
  test: {
    table: 'atoms.tests',
    columns: ['id', 'organization_id', 'project_id', 'title', 'description', 'status', ...COMMON],
    parent: 'project_id',
    create: test,
    update: updateOf(test, 'project_id'),
    filters: { organization_id: uuid, project_id: uuid, status: z.enum(TEST_STATUSES), created_by: uuid },
  },
}

/** The fields of `data` each type accepts, for the tool description. */
export const DATA_FIELDS_HELP = [
  'organization: name, slug (lowercase, unique), description',
  'project: organization_id, name, description',
  'document: project_id, title, content (markdown)',
  `requirement: project_id, document_id (optional), title, description, priority (${REQUIREMENT_PRIORITIES.join('|')}), status (${REQUIREMENT_STATUSES.join('|')})`,
  `test: project_id, title, description, status (${TEST_STATUSES.join('|')})`,
].join('; ')
