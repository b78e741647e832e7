/**
 * The entity lines of `npm run bench` and their raw lines. A raw line is the limit a tool
 * line is measured against: the statements the tool sends for that call (recorded once from
 * the tool's own code), replayed in the same transaction as the same role with the same
 * claims, on a pool of the same size, through the Db boundary straight onto `pg` or PGlite:
 * no HTTP, no MCP, no validation, no JSON.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifiedTokenFromClaims, type UserContext } from '../../src/auth/user-context.ts'
import type { Db, QueryResult } from '../../src/db/db.ts'
import { migrate } from '../../src/db/migrate.ts'
import { openPglite } from '../../src/db/pglite.ts'
import { openPostgres } from '../../src/db/postgres.ts'
import { TOOLS } from '../../src/mcp/tools/index.ts'
import { UsageCounter } from '../../src/mcp/usage.ts'
import { seedPglite } from './pglite-template.ts'

export type ToolArgs = Record<string, unknown>
/** Calls a tool as the bench user and returns its result; a failed call throws. */
export type ToolCaller = (name: string, args: ToolArgs) => Promise<any>

const KINDS = ['verifies', 'derives_from', 'references', 'parent_of'] as const

/** What the entity lines read and write: one organization, its projects, and documents and requirements to link. */
export interface EntityFixture {
  organizationId: string
  projectIds: string[]
  /** The project new documents go into. */
  projectId: string
  listArgs: ToolArgs
  readArgs: ToolArgs
  searchArgs: ToolArgs
  createArgs: ToolArgs
  /** A link not made yet, each call a new one (links are unique per source, target and kind). */
  nextLink(): ToolArgs
  /** How many links remain to be made. */
  linksLeft(): number
}

export async function entityFixture(call: ToolCaller, sizes: { projects: number; linkEnds: number }, slug: string): Promise<EntityFixture> {
  const org = await call('entity_tool', { operation: 'create', entity_type: 'organization', data: { name: 'Bench', slug } })
  const projectIds: string[] = []
  for (let i = 0; i < sizes.projects; i++) {
    projectIds.push((await call('entity_tool', { operation: 'create', entity_type: 'project', data: { organization_id: org.id, name: `Project ${i}`, description: `Bench project number ${i}` } })).id)
  }
  const projectId = projectIds[0]!
  const create = (entity_type: string, title: string) => call('entity_tool', { operation: 'create', entity_type, data: { project_id: projectId, title } }).then((row) => String(row.id))
  const sources: string[] = []
  const targets: string[] = []
  for (let i = 0; i < sizes.linkEnds; i++) {
    sources.push(await create('document', `Bench document ${i}`))
    targets.push(await create('requirement', `Bench requirement ${i}`))
  }
  const combinations = sources.length * targets.length * KINDS.length
  let made = 0
  return {
    organizationId: org.id,
    projectIds,
    projectId,
    listArgs: { operation: 'list', entity_type: 'project', filters: { organization_id: org.id }, limit: sizes.projects },
    readArgs: { operation: 'read', entity_type: 'project', id: projectId },
    searchArgs: { operation: 'search', entity_type: 'project', query: 'bench project', filters: { organization_id: org.id }, limit: 10 },
    createArgs: { operation: 'create', entity_type: 'document', data: { project_id: projectId, title: 'Bench note', content: 'Written by the bench.' } },
    nextLink() {
      if (made >= combinations) throw new Error('the fixture has no unmade links left')
      const n = made++
      const kind = KINDS[n % KINDS.length]!
      const pair = Math.floor(n / KINDS.length)
      return { operation: 'link', source_type: 'document', source_id: sources[pair % sources.length], target_type: 'requirement', target_id: targets[Math.floor(pair / sources.length)], kind }
    },
    linksLeft: () => combinations - made,
  }
}

/** The verified claims of an access token as the server reads them (the signature was checked by the server that issued it). */
export function userOfToken(token: string): UserContext {
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'))
  return { ...verifiedTokenFromClaims(claims, token), mode: 'jwt' }
}

const toolNamed = (name: string) => {
  const tool = TOOLS.find((t) => t.name === name)
  if (!tool) throw new Error(`no tool ${name}`)
  return tool
}

/** Runs a tool's own code in this process on `db`, for setting up a database the server does not hold. */
export function inProcessCaller(db: Db, user: UserContext): ToolCaller {
  const usage = new UsageCounter()
  return async (name, args) => {
    const tool = toolNamed(name)
    return tool.run(tool.input.parse(args), { db, user, usage })
  }
}

interface Statement {
  sql: string
  params: unknown[]
}

/** One tool call's database work: its settings and its statements, in order, and how they were sent. */
export interface Recording {
  settings: Record<string, string> | undefined
  statements: Statement[]
  /** Sent by `queryIn` (one call per statement) rather than in one transaction. */
  once: boolean
  result: any
}

/** Runs one tool call in this process on `db` and records what it sent to the database. */
export async function record(db: Db, user: UserContext, name: string, args: ToolArgs): Promise<Recording> {
  const recording: Recording = { settings: undefined, statements: [], once: false, result: undefined }
  const recorder: Db = {
    ...db,
    queryIn(sql, params, options) {
      recording.settings = options.settings
      recording.once = true
      recording.statements.push({ sql, params: [...params] })
      return db.queryIn(sql, params, options)
    },
    transaction(work, options) {
      recording.settings = options?.settings
      return db.transaction(
        (tx) =>
          work({
            query(sql, params = []) {
              recording.statements.push({ sql, params: [...params] })
              return tx.query(sql, params)
            },
            exec: (sql) => tx.exec(sql),
          }),
        options,
      )
    },
  }
  recording.result = await inProcessCaller(recorder, user)(name, args)
  return recording
}

/** Replays a recording with some values swapped (new ids for writes), as its user and sent as the tool sent it. */
export async function replay(db: Db, recording: Recording, swap: Map<unknown, unknown> = new Map()): Promise<QueryResult<unknown>[]> {
  const statements = swap.size ? recording.statements.map((s) => ({ sql: s.sql, params: s.params.map((p) => (swap.has(p) ? swap.get(p) : p)) })) : recording.statements
  const options = { settings: recording.settings }
  if (recording.once) {
    const results: QueryResult<unknown>[] = []
    for (const statement of statements) results.push(await db.queryIn(statement.sql, statement.params, options))
    return results
  }
  return db.transaction(async (tx) => {
    const results: QueryResult<unknown>[] = []
    for (const statement of statements) results.push(await tx.query(statement.sql, statement.params))
    return results
  }, options)
}

/** A database opened in this process for the raw lines: the server's PostgreSQL, or an embedded one of its own. */
export interface RawDatabase {
  db: Db
  close(): Promise<void>
}

/** The same pool as the server's: openPostgres's default size. */
export async function rawPostgres(url: string): Promise<RawDatabase> {
  const db = await openPostgres(url)
  return { db, close: () => db.close() }
}

/** The server holds its embedded folder, so the raw line has one of its own, set up the same way. */
export async function rawPglite(): Promise<RawDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'atoms-mcp-bench-raw-'))
  await seedPglite(join(dir, 'pgdata'), { migrated: true })
  const db = await openPglite(join(dir, 'pgdata'))
  await migrate(db)
  return {
    db,
    async close() {
      await db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * The raw task of one entity operation: its recorded statements replayed, writes with fresh
 * ids (and for links, fresh ends) so that each call writes what the tool's call would.
 */
export async function rawTask(db: Db, user: UserContext, fixture: EntityFixture, operation: 'list' | 'read' | 'search' | 'create' | 'link'): Promise<() => Promise<void>> {
  if (operation === 'link') {
    const first = fixture.nextLink()
    const recording = await record(db, user, 'relationship_tool', first)
    return async () => {
      const next = fixture.nextLink()
      await replay(db, recording, new Map<unknown, unknown>([
        [recording.result.id, randomUUID()],
        [first.source_id, next.source_id],
        [first.target_id, next.target_id],
        [first.kind, next.kind],
      ]))
    }
  }
  const args = { list: fixture.listArgs, read: fixture.readArgs, search: fixture.searchArgs, create: fixture.createArgs }[operation]
  const name = 'entity_tool'
  const recording = await record(db, user, name, args)
  if (operation === 'create') return async () => void (await replay(db, recording, new Map([[recording.result.id, randomUUID()]])))
  return async () => void (await replay(db, recording))
}
