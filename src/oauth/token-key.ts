import { hkdfSync, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Config } from '../config.ts'
import { hmac } from '../crypto.ts'
import type { Queryable } from '../db/db.ts'

export const TOKEN_KEY_FILE = 'oauth-token-key'
const FINGERPRINT_ROW = 'token-key-fingerprint'

/**
 * The key refresh tokens are found and sealed by. Supabase's refresh tokens are short
 * (about 60 bits): a plain hash of one in the database could be matched against guesses
 * offline, so the hash is keyed, and the key lives outside the database.
 */
export interface TokenKey {
  /** What a refresh token's row is found by. */
  lookup(token: string): string
  /** The secret a refresh token's row is sealed under: the token and the key together. */
  sealing(token: string): string
}

export function tokenKey(key: Buffer): TokenKey {
  return {
    lookup: (token) => hmac(key, `refresh-token:${token}`),
    sealing: (token) => hmac(key, `refresh-seal:${token}`),
  }
}

/** This instance's key is not the one other instances on the database use. */
export class TokenKeyMismatchError extends Error {
  constructor(source: string) {
    super(
      `the OAuth token key (${source}) differs from the one this database's refresh tokens were stored under. ` +
        'Every instance on one database needs the same key: set the same OAUTH_TOKEN_KEY on all of them, or copy ' +
        `${TOKEN_KEY_FILE} from the data folder of the first. To start over with a new key (every OAuth refresh token ` +
        `then ends), delete the row '${FINGERPRINT_ROW}' of atoms_oauth.secrets`,
    )
    this.name = 'TokenKeyMismatchError'
  }
}

function keyFile(dataDir: string): Buffer {
  const file = join(dataDir, TOKEN_KEY_FILE)
  if (existsSync(file)) {
    const stored = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url')
    if (stored.length !== 32) throw new Error(`${file} does not hold a 32-byte key; restore it from a backup, or delete it and start over (every OAuth refresh token then ends)`)
    return stored
  }
  const created = randomBytes(32)
  mkdirSync(dataDir, { recursive: true })
  // Write then rename, so a crash never leaves a half-written key behind.
  writeFileSync(`${file}.tmp`, created.toString('base64url'), { mode: 0o600 })
  renameSync(`${file}.tmp`, file)
  return created
}

/**
 * Loads the key: OAUTH_TOKEN_KEY, or else a key file in DATA_DIR created on first start.
 * The database keeps only a fingerprint of it (an HMAC of a constant), written by the first
 * instance; an instance with another key refuses to start instead of silently failing
 * every refresh another instance stored.
 */
export async function loadTokenKey(config: Pick<Config, 'dataDir'> & { oauth: Pick<Config['oauth'], 'tokenKey'> }, db: Queryable): Promise<Buffer> {
  const configured = config.oauth.tokenKey
  const key = configured ? Buffer.from(hkdfSync('sha256', configured, 'atoms-mcp', 'oauth-token-key', 32)) : keyFile(config.dataDir)
  const fingerprint = hmac(key, 'atoms-mcp oauth token key fingerprint')
  await db.query('insert into atoms_oauth.secrets (name, value) values ($1, $2) on conflict (name) do nothing', [FINGERPRINT_ROW, fingerprint])
  const { rows } = await db.query<{ value: string }>('select value from atoms_oauth.secrets where name = $1', [FINGERPRINT_ROW])
  if (rows[0]?.value !== fingerprint) throw new TokenKeyMismatchError(configured ? 'OAUTH_TOKEN_KEY' : join(config.dataDir, TOKEN_KEY_FILE))
  return key
}
