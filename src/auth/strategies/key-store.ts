import type { KeyObject } from 'node:crypto'
import { importJWK, type CryptoKey, type JWK, type JWSHeaderParameters } from 'jose'
import type { FastifyBaseLogger } from 'fastify'
import { UpstreamUnavailableError } from '../errors.ts'
import { fetchUpstream } from '../../supabase/upstream-fetch.ts'

/** A key and the one algorithm it may verify. The token header never chooses the key type. */
export interface VerificationKey {
  alg: string
  key: CryptoKey | KeyObject | Uint8Array
}

/** Where local verification finds the key for a token's header (undefined: none known). */
export interface KeySource {
  keyFor(header: JWSHeaderParameters): Promise<VerificationKey | undefined>
}

export interface KeyStoreOptions {
  /** The project's JWKS; unset for an HS256-only project. */
  jwksUrl: string | undefined
  /** Keys known without asking (the embedded auth's own, read where it keeps them); replaces fetching `jwksUrl`. */
  jwks?: JWK[]
  /** The legacy HS256 JWT secret; may be set together with the JWKS during a key rotation. */
  secret: string | undefined
  /** Headers for the JWKS request (the anon key, when the JWKS is the project's own). */
  headers?: Record<string, string>
  timeoutMs: number
  log: FastifyBaseLogger
  /** The least time between two fetches caused by an unknown `kid`. */
  refetchCooldownMs?: number
  /** After this, the next verification fetches the JWKS again (keys can be withdrawn). */
  maxAgeMs?: number
  now?: () => number
}

const EC_ALGORITHMS: Record<string, string> = { 'P-256': 'ES256' }
const RSA_ALGORITHMS = new Set(['RS256'])

/** The algorithm a published key verifies, derived from its type; undefined for keys we never use. */
export function algorithmForJwk(jwk: JWK): string | undefined {
  let alg: string | undefined
  if (jwk.kty === 'EC') alg = EC_ALGORITHMS[jwk.crv ?? '']
  else if (jwk.kty === 'RSA') alg = jwk.alg === undefined ? 'RS256' : RSA_ALGORITHMS.has(jwk.alg) ? jwk.alg : undefined
  else if (jwk.kty === 'OKP') alg = jwk.crv === 'Ed25519' ? 'EdDSA' : undefined
  // A published `alg` that contradicts the key type marks a key we do not trust.
  if (alg && jwk.alg !== undefined && jwk.alg !== alg) return undefined
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined
  return alg
}

/**
 * The keys local verification may use: the HS256 secret and the project JWKS. The JWKS is
 * fetched on first use (the embedded auth on this same server is not listening before
 * then), kept, fetched again when it is older than `maxAgeMs`, and fetched again for an
 * unknown `kid` at most once per `refetchCooldownMs`.
 */
export class KeyStore implements KeySource {
  readonly #options: Required<Omit<KeyStoreOptions, 'jwksUrl' | 'jwks' | 'secret' | 'headers'>> & Pick<KeyStoreOptions, 'jwksUrl' | 'jwks' | 'headers'>
  readonly #hmac: VerificationKey | undefined
  #published: Map<string, VerificationKey> | undefined
  #loadedAt = Number.NEGATIVE_INFINITY
  #lastRefetchAt = Number.NEGATIVE_INFINITY
  #loading: Promise<void> | undefined

  constructor(options: KeyStoreOptions) {
    this.#options = { refetchCooldownMs: 30_000, maxAgeMs: 600_000, now: Date.now, ...options }
    this.#hmac = options.secret ? { alg: 'HS256', key: new TextEncoder().encode(options.secret) } : undefined
  }

  /** True when there is any key source at all. */
  get configured(): boolean {
    return this.#hmac !== undefined || this.#options.jwksUrl !== undefined || this.#options.jwks !== undefined
  }

  /** The key for a token with this header, or undefined when none is known (after one refetch at most). */
  async keyFor(header: JWSHeaderParameters): Promise<VerificationKey | undefined> {
    if (header.alg === 'HS256') return this.#hmac
    if (!this.#options.jwksUrl && !this.#options.jwks) return undefined
    const now = this.#options.now()
    if (!this.#published || now - this.#loadedAt >= this.#options.maxAgeMs) await this.#load()
    const found = this.#find(header)
    if (found || now - this.#lastRefetchAt < this.#options.refetchCooldownMs) return found
    this.#lastRefetchAt = now
    await this.#load()
    return this.#find(header)
  }

  #find(header: JWSHeaderParameters): VerificationKey | undefined {
    const keys = this.#published ?? new Map<string, VerificationKey>()
    if (header.kid !== undefined) return keys.get(header.kid)
    // Without a `kid` only an unambiguous key will do.
    const candidates = [...keys.values()].filter((key) => key.alg === header.alg)
    return candidates.length === 1 ? candidates[0] : undefined
  }

  #load(): Promise<void> {
    this.#loading ??= this.#fetch().finally(() => {
      this.#loading = undefined
    })
    return this.#loading
  }

  async #fetch(): Promise<void> {
    const { jwksUrl, jwks, headers, timeoutMs, log, now } = this.#options
    let body: unknown = jwks ? { keys: jwks } : undefined
    if (!jwks) {
      try {
        const response = await fetchUpstream(jwksUrl!, { headers: { accept: 'application/json', ...headers } }, timeoutMs)
        body = response.ok ? await response.json() : undefined
        if (!response.ok) log.warn({ status: response.status, jwksUrl }, 'the JWKS could not be read; no published keys are known')
      } catch (error) {
        if (error instanceof UpstreamUnavailableError) {
          if (!this.#published) throw error
          // Keep serving with the keys we have; try again once the cooldown has passed.
          log.warn({ jwksUrl, reason: error.message }, 'the JWKS could not be refreshed; keeping the keys already known')
          this.#loadedAt = now() - this.#options.maxAgeMs + this.#options.refetchCooldownMs
          return
        }
        if (!(error instanceof SyntaxError)) throw error
        log.warn({ jwksUrl }, 'the JWKS is not JSON; no published keys are known')
      }
    }
    const keys = new Map<string, VerificationKey>()
    const list = (body as { keys?: unknown })?.keys
    for (const jwk of Array.isArray(list) ? (list as JWK[]) : []) {
      const alg = algorithmForJwk(jwk)
      if (!alg || typeof jwk.kid !== 'string') continue
      try {
        keys.set(jwk.kid, { alg, key: (await importJWK({ ...jwk, alg }, alg)) as CryptoKey })
      } catch {
        log.warn({ kid: jwk.kid }, 'a JWKS key could not be imported; ignoring it')
      }
    }
    this.#published = keys
    this.#loadedAt = now()
  }
}
