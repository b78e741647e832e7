/**
 * `npm run user -- add EMAIL [--password P] | list | remove EMAIL`: manages the users of the
 * embedded auth without a browser. It works on the same database the server uses.
 * Exit codes: 0 done, 1 refused or failed, 2 wrong usage.
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig, type Config } from '../src/config.ts'
import type { Db } from '../src/db/db.ts'
import { openDatabase } from '../src/db/open.ts'
import { DatabaseInUseError } from '../src/db/pglite.ts'
import { checkEmail, checkPasswordPolicy } from '../src/embedded-auth/routes/signup.ts'
import { deleteUser, findUserByEmail, hashPassword, insertUser, listUsers } from '../src/embedded-auth/users.ts'

const USAGE = `Manage the users of the embedded auth (the local stand-in for Supabase Auth).

Usage:
  npm run user -- add EMAIL [--password PASSWORD]   create a confirmed user; without
                                                    --password a strong one is generated
                                                    and printed once
  npm run user -- list                              list the users
  npm run user -- remove EMAIL                      delete a user and their sessions
  npm run user -- --help                            show this text

It reads the same configuration as the server (environment and .env): DATA_DIR for the
embedded database, or DATABASE_URL. While the server holds the embedded database, the
command goes through the server's admin API instead (at BASE_URL, with its service-role
key).
When SUPABASE_URL is set, users live in that Supabase project: manage them there.

Exit codes: 0 done, 1 refused or failed, 2 wrong usage.`

class UsageError extends Error {}
class Refusal extends Error {}

/** 24 characters from 18 random bytes: 144 bits, and no characters a shell would mangle. */
const generatePassword = () => randomBytes(18).toString('base64url')

async function add(db: Db, config: Config, email: string, givenPassword: string | undefined) {
  const password = givenPassword ?? generatePassword()
  const normalised = checkEmail(email)
  checkPasswordPolicy(password, config.embeddedAuth.minPasswordLength)
  if (await findUserByEmail(db, normalised)) throw new Refusal(`a user with the email ${normalised} already exists`)
  const passwordHash = await hashPassword(password)
  const user = await db.transaction((tx) => insertUser(tx, { email: normalised, passwordHash, confirmed: true, provider: 'email' }))
  reportAdded(user, givenPassword ? undefined : password)
}

/** What `add` prints on either path; a generated password is shown this once. */
function reportAdded(user: { email?: string | null; id: string }, generatedPassword: string | undefined) {
  console.log(`added ${user.email} (id ${user.id})`)
  if (generatedPassword) console.log(`password: ${generatedPassword}\n(shown only this once; keep it somewhere safe)`)
}

const reportRemoved = (user: { email?: string | null; id: string }) => console.log(`removed ${user.email} (id ${user.id}) and their sessions`)

interface ListedUser {
  email: string
  id: string
  providers: string[]
  createdAt: Date | string
  lastSignInAt: Date | string | null | undefined
}

async function list(db: Db) {
  printUsers(
    (await listUsers(db)).map((user) => ({
      email: user.email ?? '',
      id: user.id,
      providers: (user.raw_app_meta_data.providers as string[] | undefined) ?? [],
      createdAt: user.created_at,
      lastSignInAt: user.last_sign_in_at,
    })),
  )
}

/** Oldest first, one aligned row each. */
function printUsers(users: ListedUser[]) {
  if (users.length === 0) {
    console.log('no users yet; add one with: npm run user -- add you@example.com')
    return
  }
  const rows = users.map((user) => [
    user.email,
    user.id,
    user.providers.join(','),
    new Date(user.createdAt).toISOString(),
    user.lastSignInAt ? new Date(user.lastSignInAt).toISOString() : 'never',
  ])
  const header = ['EMAIL', 'ID', 'PROVIDERS', 'CREATED', 'LAST SIGN-IN']
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
  for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd())
}

async function remove(db: Db, email: string) {
  const user = await findUserByEmail(db, email.trim())
  if (!user) throw new Refusal(`no user with the email ${email.trim().toLowerCase()}`)
  await deleteUser(db, user.id)
  reportRemoved(user)
}

const PAGE_SIZE = 1000

/**
 * The same commands through a running server's admin API (supabase-js `auth.admin`), for
 * when that server holds the embedded database. Its key is the configured one, or the one
 * derived from the signing key in DATA_DIR, which this process can read as the server does.
 */
async function viaAdminApi(config: Config, request: { command: string; email?: string; password?: string | undefined }, inUse: DatabaseInUseError) {
  // Loaded only on this path, so the common one starts as fast as before.
  const [{ createClient }, { loadSigningKeys }] = await Promise.all([import('@supabase/supabase-js'), import('../src/embedded-auth/keys.ts')])
  const key = config.supabaseServiceRoleKey ?? (await loadSigningKeys(config.dataDir)).serviceRoleKey
  // The server holding the database said where it answers; BASE_URL here may name another port.
  const serverUrl = inUse.serverUrl ?? config.baseUrl
  const admin = createClient(serverUrl, key, { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } }).auth.admin
  const unreachable = (error: { message: string; status?: number }) =>
    new Refusal(`${inUse.message}; its admin API at ${serverUrl}/auth/v1/admin could not be used either: ${error.message}${error.status ? ` (${error.status})` : ''}`)
  const allUsers = async () => {
    const users = []
    for (let page = 1; ; page++) {
      const { data, error } = await admin.listUsers({ page, perPage: PAGE_SIZE })
      if (error) throw unreachable(error)
      users.push(...data.users)
      if (data.users.length < PAGE_SIZE) return users
    }
  }
  if (request.command === 'add') {
    const password = request.password ?? generatePassword()
    const email = checkEmail(request.email!)
    checkPasswordPolicy(password, config.embeddedAuth.minPasswordLength)
    const { data, error } = await admin.createUser({ email, password, email_confirm: true })
    if (error?.code === 'email_exists') throw new Refusal(`a user with the email ${email} already exists`)
    if (error) throw unreachable(error)
    reportAdded(data.user, request.password ? undefined : password)
  } else if (request.command === 'remove') {
    const email = request.email!.trim().toLowerCase()
    const user = (await allUsers()).find((candidate) => candidate.email === email)
    if (!user) throw new Refusal(`no user with the email ${email}`)
    const { error } = await admin.deleteUser(user.id)
    if (error) throw unreachable(error)
    reportRemoved(user)
  } else {
    printUsers(
      (await allUsers()).reverse().map((user) => ({
        email: user.email ?? '',
        id: user.id,
        providers: (user.app_metadata.providers as string[] | undefined) ?? [],
        createdAt: user.created_at,
        lastSignInAt: user.last_sign_in_at,
      })),
    )
  }
}

function parse(argv: string[]) {
  let parsed
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { password: { type: 'string' }, help: { type: 'boolean', short: 'h' } } })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help) return { command: 'help' as const }
  const [command, email, ...rest] = positionals
  if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`)
  if (values.password !== undefined && command !== 'add') throw new UsageError('--password goes with add only')
  switch (command) {
    case 'add':
    case 'remove':
      if (!email) throw new UsageError(`${command} needs an EMAIL`)
      return { command, email, password: values.password }
    case 'list':
      if (email) throw new UsageError('list takes no arguments')
      return { command }
    case undefined:
      throw new UsageError('a command is needed: add, list or remove')
    default:
      throw new UsageError(`unknown command "${command}"; the commands are add, list and remove`)
  }
}

async function main(argv: string[]): Promise<number> {
  let request
  try {
    request = parse(argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`error: ${error.message}\n\n${USAGE}`)
    return 2
  }
  if (request.command === 'help') {
    console.log(USAGE)
    return 0
  }
  let config: Config
  try {
    config = loadConfig()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`error: the configuration is invalid:\n${error.problems.map((p) => `  ${p}`).join('\n')}`)
    return 1
  }
  if (!config.embeddedAuth.enabled) {
    console.error(
      `error: SUPABASE_URL is set, so users live in the Supabase project at ${config.supabaseUrl}, not here.\n` +
        'Manage them in its dashboard (Authentication > Users), or unset SUPABASE_URL to use the embedded auth.',
    )
    return 1
  }
  let db: Db | undefined
  try {
    try {
      db = await openDatabase(config)
    } catch (error) {
      if (!(error instanceof DatabaseInUseError)) throw error
      await viaAdminApi(config, request, error)
      return 0
    }
    if (request.command === 'add') await add(db, config, request.email!, request.password)
    else if (request.command === 'remove') await remove(db, request.email!)
    else await list(db)
    return 0
  } catch (error) {
    // Refusals, policy errors and an unreachable or busy database all read as one line.
    console.error(`error: ${(error as Error)?.message ?? error}`)
    return 1
  } finally {
    await db?.close()
  }
}

process.exitCode = await main(process.argv.slice(2))
