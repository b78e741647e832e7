import type { Config } from '../config.ts'
import type { Db } from '../db/db.ts'
import type { SigningKeys } from './keys.ts'
import type { TokenSettings } from './tokens.ts'

/** What every embedded-auth route needs, built once when the plugin registers. */
export interface AuthContext {
  config: Config
  db: Db
  keys: SigningKeys
  tokens: TokenSettings
  verify(token: string): Promise<Record<string, unknown>>
  /** `${BASE_URL}/auth/v1`: the URL supabase-js reaches this auth at. */
  externalUrl: string
  /** True for the service-role key (constant-time); the admin API accepts nothing else. */
  isServiceRoleKey(presented: string): boolean
}
