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
embedded database, or DATABASE_URL. While a server has the embedded database open, add
signs the user up through that server (at BASE_URL); list and remove need it stopped.
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
  reportAdded(user, password, givenPassword)
}

function reportAdded(user: { email?: string | null; id: string }, password: string, givenPassword: string | undefined) {
  console.log(`added ${user.email} (id ${user.id})`)
  if (!givenPassword) console.log(`password: ${password}\n(shown only this once; keep it somewhere safe)`)
}

/**
 * The embedded database is open in the running server, which alone may touch it: `add` goes
 * through the server's own sign-up endpoint, which makes the same confirmed user while sign-up
 * is on and confirms by itself (the defaults).
 */
async function addThroughServer(config: Config, busy: DatabaseInUseError, email: string, givenPassword: string | undefined) {
  if (config.embeddedAuth.disableSignup || !config.embeddedAuth.autoconfirm) {
    throw new Refusal(`${busy.message}\n(its sign-up is off or needs a confirmation, so add cannot go through it: stop the server and run this again)`)
  }
  const password = givenPassword ?? generatePassword()
  const normalised = checkEmail(email)
  checkPasswordPolicy(password, config.embeddedAuth.minPasswordLength)
  const url = `${config.effectiveSupabaseUrl}/auth/v1/signup`
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', apikey: config.effectiveAnonKey },
    body: JSON.stringify({ email: normalised, password }),
  }).catch((error: Error) => {
    throw new Refusal(`${busy.message}\n(and no server answers at ${url}: ${error.message})`)
  })
  const body = (await response.json().catch(() => ({}))) as { user?: { id: string; email?: string }; id?: string; email?: string; msg?: string; message?: string }
  if (!response.ok) throw new Refusal(`the running server refused the sign-up: ${body.msg ?? body.message ?? `HTTP ${response.status}`}`)
  const user = body.user ?? (body as { id: string; email?: string })
  reportAdded(user, password, givenPassword)
}

async function list(db: Db) {
  const users = await listUsers(db)
  if (users.length === 0) {
    console.log('no users yet; add one with: npm run user -- add you@example.com')
    return
  }
  const rows = users.map((user) => [
    user.email ?? '',
    user.id,
    ((user.raw_app_meta_data.providers as string[] | undefined) ?? []).join(','),
    new Date(user.created_at).toISOString(),
    user.last_sign_in_at ? new Date(user.last_sign_in_at).toISOString() : 'never',
  ])
  const header = ['EMAIL', 'ID', 'PROVIDERS', 'CREATED', 'LAST SIGN-IN']
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
  for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd())
}

async function remove(db: Db, email: string) {
  const user = await findUserByEmail(db, email.trim())
  if (!user) throw new Refusal(`no user with the email ${email.trim().toLowerCase()}`)
  await deleteUser(db, user.id)
  console.log(`removed ${user.email} (id ${user.id}) and their sessions`)
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
    db = await openDatabase(config)
    if (request.command === 'add') await add(db, config, request.email!, request.password)
    else if (request.command === 'remove') await remove(db, request.email!)
    else await list(db)
    return 0
  } catch (error) {
    try {
      if (error instanceof DatabaseInUseError && request.command === 'add') {
        await addThroughServer(config, error, request.email!, request.password)
        return 0
      }
      throw error
    } catch (error) {
      // Refusals, policy errors and an unreachable or busy database all read as one line.
      console.error(`error: ${(error as Error)?.message ?? error}`)
      if (error instanceof DatabaseInUseError) console.error('(add works while the server runs; list and remove need it stopped)')
      return 1
    }
  } finally {
    await db?.close()
  }
}

process.exitCode = await main(process.argv.slice(2))
