import { createHmac, randomUUID, hkdfSync } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync, renameSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from 'jose'
import type { Queryable } from '../db/db.ts'

export interface SigningKeys {
  kid: string
  privateKey: CryptoKey
  publicJwk: JWK
  /** Secret for deriving refresh tokens from their row ids; derived from the signing key. */
  refreshTokenSecret: Buffer
  /**
   * Secret the local sign-in page signs its one-time provider codes with (HS256). It is not
   * the access-token key, so a provider code can never pass for an access token.
   */
  localProviderSecret: Buffer
  /** Secret the local consent page binds its forms to their authorization with. */
  consentFormSecret: Buffer
  /** What this server's own calls to its embedded auth carry (see internal-call.ts); every instance derives the same. */
  internalCallSecret: string
  /**
   * The service-role key the admin API accepts when none is configured: derived, so it is
   * the same after a restart and on every instance that shares the signing key.
   */
  serviceRoleKey: string
}

const KEY_FILE = 'auth-signing-key.json'

/** The key file is unusable: say which file, and what replacing it costs. */
export class SigningKeyFileError extends Error {
  constructor(file: string, reason: string) {
    super(
      `the embedded auth's signing key ${file} cannot be used (${reason}); restore it from a backup, ` +
        'or delete it to create a new key (every session signed with the old key then ends)',
    )
    this.name = 'SigningKeyFileError'
  }
}

interface StoredKey {
  kid: string
  privateJwk: JWK
}

/** The reason a stored key is unusable, or undefined when it holds a P-256 private key and its kid. */
function storedKeyDefect(stored: any): string | undefined {
  const jwk = stored?.privateJwk
  if (typeof stored?.kid !== 'string' || jwk?.kty !== 'EC' || jwk?.crv !== 'P-256' || typeof jwk?.d !== 'string' || typeof jwk?.x !== 'string' || typeof jwk?.y !== 'string') {
    return 'it does not hold a P-256 private key and its kid'
  }
  return undefined
}

function readStoredKey(file: string): StoredKey {
  let stored: any
  try {
    stored = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new SigningKeyFileError(file, (error as Error).message)
  }
  const defect = storedKeyDefect(stored)
  if (defect) throw new SigningKeyFileError(file, defect)
  return stored
}

async function newStoredKey(): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  return { kid: randomUUID(), privateJwk: await exportJWK(privateKey) }
}

function readOrCreateKeyFile(dataDir: string, file: string, created: StoredKey): StoredKey {
  if (existsSync(file)) return readStoredKey(file)
  mkdirSync(dataDir, { recursive: true })
  // Write then rename, so a crash never leaves a half-written key behind.
  writeFileSync(`${file}.tmp`, JSON.stringify(created, null, 2), { mode: 0o600 })
  renameSync(`${file}.tmp`, file)
  return created
}

const KEY_ROW = 'current'
const KEY_TABLE = 'embedded_auth.signing_keys'

/**
 * The key row shared by every instance on one database. Concurrent first starts race on
 * an insert that keeps whichever row came first, then all read that row. A key file left
 * by an earlier single-instance deployment is adopted, so its sessions outlive the move.
 */
async function readOrCreateKeyRow(db: Queryable, file: string, created: StoredKey): Promise<StoredKey> {
  const candidate = existsSync(file) ? readStoredKey(file) : created
  await db.query(`insert into ${KEY_TABLE} (name, kid, private_jwk) values ($1, $2, $3) on conflict (name) do nothing`, [
    KEY_ROW,
    candidate.kid,
    JSON.stringify(candidate.privateJwk),
  ])
  const { rows } = await db.query<{ kid: string; private_jwk: JWK }>(`select kid, private_jwk from ${KEY_TABLE} where name = $1`, [KEY_ROW])
  const stored = { kid: rows[0]?.kid, privateJwk: rows[0]?.private_jwk }
  const defect = storedKeyDefect(stored)
  if (defect) throw new SigningKeyFileError(`the row '${KEY_ROW}' of ${KEY_TABLE}`, defect)
  return stored as StoredKey
}

/**
 * Loads the ES256 signing key, creating it on first start. Keeping it is what lets tokens
 * issued before a restart verify against the JWKS after it. With `sharedDb` (a PostgreSQL
 * server several instances may share) it lives in the database, so they all sign alike;
 * otherwise in the data folder.
 */
export async function loadSigningKeys(dataDir: string, sharedDb?: Queryable): Promise<SigningKeys> {
  const file = join(dataDir, KEY_FILE)
  const created = await newStoredKey()
  const stored = sharedDb ? await readOrCreateKeyRow(sharedDb, file, created) : readOrCreateKeyFile(dataDir, file, created)
  const privateKey = (await importJWK({ ...stored.privateJwk, alg: 'ES256' }, 'ES256').catch((error: Error) => {
    throw new SigningKeyFileError(sharedDb ? KEY_TABLE : file, error.message)
  })) as CryptoKey
  const { d: _private, ...publicPart } = stored.privateJwk
  const publicJwk: JWK = { alg: 'ES256', crv: publicPart.crv, key_ops: ['verify'], kid: stored.kid, kty: 'EC', use: 'sig', x: publicPart.x, y: publicPart.y }
  const derive = (purpose: string) => Buffer.from(hkdfSync('sha256', Buffer.from(stored.privateJwk.d!, 'base64url'), 'atoms-mcp', purpose, 32))
  return {
    kid: stored.kid,
    privateKey,
    publicJwk,
    refreshTokenSecret: derive('refresh-token'),
    localProviderSecret: derive('local-provider-code'),
    consentFormSecret: derive('consent-form'),
    internalCallSecret: derive('internal-call').toString('base64url'),
    serviceRoleKey: `sb_secret_${derive('service-role-key').toString('base64url')}`,
  }
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

/** The 12-character `[a-z2-7]` refresh token for a row id, the legacy GoTrue shape. */
export function refreshTokenFor(secret: Buffer, rowId: string): string {
  const mac = createHmac('sha256', secret).update(rowId).digest()
  let out = ''
  for (let i = 0; i < 12; i++) out += ALPHABET[mac[i]! & 31]
  return out
}
