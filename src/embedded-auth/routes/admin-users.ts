import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Queryable } from '../../db/db.ts'
import { requireServiceRole } from '../admin-auth.ts'
import { isUuid } from '../authenticate.ts'
import { bodyText } from '../body.ts'
import type { AuthContext } from '../context.ts'
import { badRequest, GoTrueError, validationFailed } from '../errors.ts'
import { parseGoDuration } from '../go-duration.ts'
import { applyEmailChange, emailExists, emailTakenByOther, mergeMetadata, setPassword } from '../user-changes.ts'
import { hashPassword, identityFromJson, insertUser, userJson, type IdentityJson, type UserRow, type UserWithIdentities } from '../users.ts'
import { checkEmail, checkPasswordStrength } from './signup.ts'

/**
 * The admin users API of GoTrue (`supabase.auth.admin.*`), for the service-role key only:
 * create, get, list with GoTrue's page/per_page pagination, update and delete (hard or
 * soft). Phone users are not offered, as nowhere else in the embedded auth.
 */
const DEFAULT_PER_PAGE = 50
// Go's pagination library takes a page size below 1 as its default of 20.
const EMPTY_PER_PAGE = 20
const MAX_PAGE_NUMBER = 2 ** 31
const BCRYPT_HASH = /^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/

const str = (value: unknown) => (typeof value === 'string' ? value : '')
const metadataField = { type: ['object', 'null'] } as const

const userFields = {
  id: bodyText,
  aud: bodyText,
  role: bodyText,
  email: bodyText,
  phone: bodyText,
  password: bodyText,
  password_hash: bodyText,
  email_confirm: { type: ['boolean', 'null'] },
  phone_confirm: { type: ['boolean', 'null'] },
  user_metadata: metadataField,
  app_metadata: metadataField,
  ban_duration: bodyText,
} as const
const userIdParams = { type: 'object', properties: { user_id: { type: 'string' } } } as const
const listQuery = { type: 'object', properties: { page: {}, per_page: {}, sort: {}, filter: {} } } as const

type UserListRow = UserRow & { identities_json: IdentityJson[] }

const USERS_WITH_IDENTITIES = `select u.*,
  coalesce((select json_agg(i order by i.created_at) from embedded_auth.identities i where i.user_id = u.id), '[]'::json) as identities_json
  from embedded_auth.users u`

function withIdentitiesJson({ identities_json: identities, ...user }: UserListRow): UserWithIdentities {
  return { ...user, identities: identities.map(identityFromJson) }
}

async function findUser(db: Queryable, id: string): Promise<UserWithIdentities | undefined> {
  const row = (await db.query<UserListRow>(`${USERS_WITH_IDENTITIES} where u.id = $1`, [id])).rows[0]
  return row && withIdentitiesJson(row)
}

/** GoTrue's user loader: a path id that is no UUID is a 404 too. */
async function loadUser(db: Queryable, request: FastifyRequest): Promise<UserWithIdentities> {
  const id = (request.params as { user_id?: string }).user_id
  if (!isUuid(id)) throw new GoTrueError(404, 'validation_failed', 'user_id must be an UUID')
  const user = await findUser(db, id)
  if (!user) throw new GoTrueError(404, 'user_not_found', 'User not found')
  return user
}

/** `ban_duration` as GoTrue reads it: a Go duration, or "none" to lift a ban. */
function banUntil(value: string): Date | null | undefined {
  if (!value) return undefined
  if (value === 'none') return null
  const ms = parseGoDuration(value)
  if (ms === undefined) throw validationFailed(`invalid format for ban duration: time: invalid duration ${JSON.stringify(value)}`)
  return ms === 0 ? null : new Date(Date.now() + ms)
}

/** A page number or size as Go's `ParseUint` reads it. */
function pageNumber(value: unknown, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const text = Array.isArray(value) ? String(value[0] ?? '') : String(value)
  if (text === '') return fallback
  if (!/^\d+$/.test(text) || Number(text) > MAX_PAGE_NUMBER) {
    throw validationFailed(`Bad Pagination Parameters: strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax`)
  }
  return Number(text)
}

/** `sort=created_at [asc|desc]`, the one field GoTrue sorts users by. */
function sortDirection(value: unknown): 'asc' | 'desc' {
  let direction: 'asc' | 'desc' = 'desc'
  for (const entry of [value ?? []].flat()) {
    const [field, dir] = String(entry).split(' ', 2) as [string, string | undefined]
    if (field !== 'created_at') throw validationFailed(`Bad Sort Parameters: bad field for sort '${field}'`)
    if (dir === undefined) direction = 'desc'
    else if (dir.toLowerCase() === 'asc' || dir.toLowerCase() === 'desc') direction = dir.toLowerCase() as 'asc' | 'desc'
    else throw validationFailed(`Bad Sort Parameters: bad direction for sort '${dir}', only 'asc' and 'desc' allowed`)
  }
  return direction
}

/**
 * GoTrue's `Link` and `X-Total-Count`. The query keys are sorted as Go encodes them, which
 * puts `page` before `per_page`: supabase-js reads the page number after the first `=`.
 */
function paginationHeaders(reply: FastifyReply, request: FastifyRequest, page: number, perPage: number, total: number) {
  const totalPages = Math.ceil(total / perPage)
  const [path, search = ''] = request.url.split('?', 2) as [string, string | undefined]
  const link = (target: number) => {
    const query = new URLSearchParams(search)
    query.set('page', String(target))
    query.sort()
    return `<${path}?${query.toString()}>`
  }
  const parts = totalPages > page ? [`${link(page + 1)}; rel="next"`] : []
  parts.push(`${link(totalPages)}; rel="last"`)
  reply.header('link', parts.join(', ')).header('x-total-count', String(total))
}

/** What a soft delete leaves of a value: GoTrue's digest of the user id and the value. */
const obfuscate = (userId: string, value: string) => createHash('sha256').update(userId + value).digest('base64url')

async function softDelete(tx: Queryable, user: UserWithIdentities) {
  if (user.deleted_at) return
  await tx.query(
    `update embedded_auth.users set email = $2, phone = $3, encrypted_password = null, email_change = null, email_change_sent_at = null,
       raw_user_meta_data = '{}', raw_app_meta_data = '{}', deleted_at = now(), updated_at = now() where id = $1`,
    [user.id, obfuscate(user.id, user.email ?? ''), obfuscate(user.id, user.phone ?? '').slice(0, 15)],
  )
  for (const identity of user.identities) {
    await tx.query(`update embedded_auth.identities set identity_data = '{}', provider_id = $2, updated_at = now() where id = $1`, [
      identity.id,
      obfuscate(user.id, `${identity.provider}:${identity.provider_id}`),
    ])
  }
  await tx.query('delete from embedded_auth.sessions where user_id = $1', [user.id])
}

export async function adminUserRoutes(app: FastifyInstance, { ctx }: { ctx: AuthContext }) {
  const { db } = ctx
  // GoTrue checks the credentials on the whole /admin group before anything else, the
  // body included: nobody without the key learns even whether their JSON parses.
  app.addHook('onRequest', async (request) => requireServiceRole(request, ctx))

  app.get('/admin/users', { schema: { querystring: listQuery } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>
    const direction = sortDirection(query.sort)
    const page = Math.max(pageNumber(query.page, 1), 1)
    const perPage = pageNumber(query.per_page, DEFAULT_PER_PAGE) || EMPTY_PER_PAGE
    const filter = [query.filter ?? ''].flat()[0]
    const where = filter ? `where (u.email like $1 or u.raw_user_meta_data->>'full_name' ilike $1)` : 'where $1::text is null'
    const like = filter ? `%${String(filter)}%` : null
    const total = Number((await db.query<{ count: string }>(`select count(*) as count from embedded_auth.users u ${where}`, [like])).rows[0]!.count)
    const offset = (BigInt(page) - 1n) * BigInt(perPage)
    const { rows } = await db.query<UserListRow>(`${USERS_WITH_IDENTITIES} ${where} order by u.created_at ${direction}, u.id ${direction} limit $2 offset $3`, [
      like,
      perPage,
      offset.toString(),
    ])
    paginationHeaders(reply, request, page, perPage, total)
    return { users: rows.map((row) => userJson(withIdentitiesJson(row))), aud: 'authenticated' }
  })

  app.post('/admin/users', { schema: { body: { type: 'object', properties: userFields } } }, async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const [rawEmail, phone, password, passwordHash, id] = ['email', 'phone', 'password', 'password_hash', 'id'].map((key) => str(body[key]))
    if (!rawEmail && !phone) throw validationFailed('Cannot create a user without either an email or phone')
    if (phone) throw badRequest('phone_provider_disabled', 'Phone logins are disabled')
    const email = checkEmail(rawEmail)
    if (await emailTakenByOther(db, email, undefined)) throw emailExists()
    if (typeof body.password === 'string' && passwordHash) throw validationFailed('Only a password or a password hash should be provided')
    if (passwordHash && !BCRYPT_HASH.test(passwordHash)) throw validationFailed('password_hash: only bcrypt hashes are accepted')
    if (Buffer.byteLength(password) > 72) throw validationFailed('bcrypt: password length exceeds 72 bytes')
    if (id && !isUuid(id)) throw validationFailed('ID must conform to the uuid v4 format')
    if (id === '00000000-0000-0000-0000-000000000000') throw validationFailed('ID cannot be a nil uuid')
    const bannedUntil = banUntil(str(body.ban_duration))
    // No password given: nobody can sign in with one until it is set (GoTrue stores a random one).
    const hash = passwordHash || (password ? await hashPassword(password) : null)

    const created = await db
      .transaction(async (tx) => {
        const user = await insertUser(tx, {
          ...(id ? { id } : {}),
          email,
          passwordHash: hash,
          confirmed: body.email_confirm === true,
          provider: 'email',
          userMetadata: (body.user_metadata as Record<string, unknown> | null) ?? {},
        })
        // Nothing was sent to confirm, so unlike a sign-up there is no confirmation_sent_at.
        if (body.email_confirm !== true) await tx.query('update embedded_auth.users set confirmation_sent_at = null where id = $1', [user.id])
        if (body.app_metadata) await mergeMetadata(tx, user.id, 'raw_app_meta_data', body.app_metadata as Record<string, unknown>)
        if (bannedUntil) await tx.query('update embedded_auth.users set banned_until = $2 where id = $1', [user.id, bannedUntil])
        return user
      })
      .catch((error: any) => {
        // The same email or id created meanwhile: the unique indexes decide.
        if (error?.code === '23505') throw emailExists()
        throw error
      })
    return userJson((await findUser(db, created.id))!)
  })

  app.get('/admin/users/:user_id', { schema: { params: userIdParams } }, async (request) => userJson(await loadUser(db, request)))

  app.put('/admin/users/:user_id', { schema: { params: userIdParams, body: { type: 'object', properties: userFields } } }, async (request) => {
    const user = await loadUser(db, request)
    const body = (request.body ?? {}) as Record<string, unknown>
    const email = str(body.email) ? checkEmail(str(body.email)) : ''
    if (str(body.phone)) throw badRequest('phone_provider_disabled', 'Phone logins are disabled')
    const bannedUntil = banUntil(str(body.ban_duration))
    const password = typeof body.password === 'string' ? body.password : undefined
    if (password !== undefined) checkPasswordStrength(password, ctx.config.embeddedAuth.minPasswordLength)
    const hash = password === undefined ? undefined : await hashPassword(password)

    await db.transaction(async (tx) => {
      if (body.email_confirm === true) {
        await tx.query(
          `update embedded_auth.users set email_confirmed_at = now(), raw_user_meta_data = raw_user_meta_data || '{"email_verified": true}', updated_at = now() where id = $1`,
          [user.id],
        )
      }
      // An administrator's new password ends every session of the user.
      if (hash !== undefined) await setPassword(tx, user.id, hash, undefined)
      if (email && email !== user.email) await applyEmailChange(tx, user, email, body.email_confirm === true)
      if (body.app_metadata) await mergeMetadata(tx, user.id, 'raw_app_meta_data', body.app_metadata as Record<string, unknown>)
      if (body.user_metadata) await mergeMetadata(tx, user.id, 'raw_user_meta_data', body.user_metadata as Record<string, unknown>)
      if (bannedUntil !== undefined) await tx.query('update embedded_auth.users set banned_until = $2, updated_at = now() where id = $1', [user.id, bannedUntil])
    })
    return userJson((await findUser(db, user.id))!)
  })

  app.delete('/admin/users/:user_id', { schema: { params: userIdParams, body: { type: 'object', properties: { should_soft_delete: { type: ['boolean', 'null'] } } } } }, async (request) => {
    const user = await loadUser(db, request)
    const soft = (request.body as { should_soft_delete?: boolean | null } | null)?.should_soft_delete === true
    await db.transaction(async (tx) => {
      if (soft) await softDelete(tx, user)
      else await tx.query('delete from embedded_auth.users where id = $1', [user.id])
    })
    return {}
  })

  // Admin routes the embedded auth does not have: still behind the key, as in GoTrue, where
  // /invite sits behind the same check as /admin.
  const notOffered = async () => {
    throw new GoTrueError(404, 'not_found', 'Not Found')
  }
  app.all('/admin/*', notOffered)
  app.post('/invite', notOffered)

  // The embedded auth has no MFA, so a user's factors are always none.
  app.get('/admin/users/:user_id/factors', { schema: { params: userIdParams } }, async (request) => {
    await loadUser(db, request)
    return []
  })
  app.delete('/admin/users/:user_id/factors/:factor_id', async (request) => {
    await loadUser(db, request)
    if (!isUuid((request.params as { factor_id?: string }).factor_id)) throw new GoTrueError(404, 'validation_failed', 'factor_id must be an UUID')
    throw new GoTrueError(404, 'mfa_factor_not_found', 'Factor not found')
  })
}
