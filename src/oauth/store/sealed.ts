import { openWith, sealWith } from '../../crypto.ts'

/** One purpose per column, so a sealed value cannot be moved to another column and opened there. */
export type SealedColumn = 'pending session' | 'provider verifier' | 'code session' | 'code response' | 'refresh successor' | 'refresh session'

/** Seals a value kept next to the hash of `secret`, under a key derived from `secret` itself. */
export const seal = (secret: string, column: SealedColumn, value: unknown) => sealWith(secret, column, JSON.stringify(value))

/** The value `seal` kept; undefined when there is none or it does not open with this secret. */
export function unseal<T>(secret: string, column: SealedColumn, sealed: string | null | undefined): T | undefined {
  if (!sealed) return undefined
  const text = openWith(secret, column, sealed)
  return text === undefined ? undefined : (JSON.parse(text) as T)
}
