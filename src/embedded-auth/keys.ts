import { createHmac, randomUUID, hkdfSync } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync, renameSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from 'jose'

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

function readStoredKey(file: string): { kid: string; privateJwk: JWK } {
  let stored: any
  try {
    stored = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new SigningKeyFileError(file, (error as Error).message)
  }
  const jwk = stored?.privateJwk
  if (typeof stored?.kid !== 'string' || jwk?.kty !== 'EC' || jwk?.crv !== 'P-256' || typeof jwk?.d !== 'string' || typeof jwk?.x !== 'string' || typeof jwk?.y !== 'string') {
    throw new SigningKeyFileError(file, 'it does not hold a P-256 private key and its kid')
  }
  return stored
}

/**
 * Loads the ES256 signing key from the data folder, creating it on first start. Keeping it
 * there is what lets tokens issued before a restart verify against the JWKS after it.
 */
export async function loadSigningKeys(dataDir: string): Promise<SigningKeys> {
  const file = join(dataDir, KEY_FILE)
  let stored: { kid: string; privateJwk: JWK }
  if (existsSync(file)) {
    stored = readStoredKey(file)
  } else {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    stored = { kid: randomUUID(), privateJwk: await exportJWK(privateKey) }
    mkdirSync(dataDir, { recursive: true })
    // Write then rename, so a crash never leaves a half-written key behind.
    writeFileSync(`${file}.tmp`, JSON.stringify(stored, null, 2), { mode: 0o600 })
    renameSync(`${file}.tmp`, file)
  }
  const privateKey = (await importJWK({ ...stored.privateJwk, alg: 'ES256' }, 'ES256').catch((error: Error) => {
    throw new SigningKeyFileError(file, error.message)
  })) as CryptoKey
  const { d: _private, ...publicPart } = stored.privateJwk
  const publicJwk: JWK = { alg: 'ES256', crv: publicPart.crv, key_ops: ['verify'], kid: stored.kid, kty: 'EC', use: 'sig', x: publicPart.x, y: publicPart.y }
  const derive = (purpose: string) => Buffer.from(hkdfSync('sha256', Buffer.from(stored.privateJwk.d!, 'base64url'), 'atoms-mcp', purpose, 32))
  return { kid: stored.kid, privateKey, publicJwk, refreshTokenSecret: derive('refresh-token'), localProviderSecret: derive('local-provider-code'), consentFormSecret: derive('consent-form') }
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

/** The 12-character `[a-z2-7]` refresh token for a row id, the legacy GoTrue shape. */
export function refreshTokenFor(secret: Buffer, rowId: string): string {
  const mac = createHmac('sha256', secret).update(rowId).digest()
  let out = ''
  for (let i = 0; i < 12; i++) out += ALPHABET[mac[i]! & 31]
  return out
}
