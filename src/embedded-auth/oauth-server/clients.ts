import { randomBytes, randomUUID } from 'node:crypto'
import { safeEqual, sha256 } from '../../crypto.ts'
import type { Queryable } from '../../db/db.ts'
import { isPlainHost } from '../../http/hostname.ts'
import { GoTrueError, validationFailed } from '../errors.ts'

export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post'

export interface OAuthClientRow {
  id: string
  client_secret_hash: string | null
  client_type: 'public' | 'confidential'
  token_endpoint_auth_method: TokenEndpointAuthMethod
  redirect_uris: string[]
  grant_types: string[]
  client_name: string | null
  client_uri: string | null
  logo_uri: string | null
  registration_type: string
  /** When it first redeemed a code; until then its errors are not sent to its redirect URI. */
  proven_at: Date | null
  created_at: Date
  updated_at: Date
}

const GRANT_TYPES = ['authorization_code', 'refresh_token']
const AUTH_METHODS: TokenEndpointAuthMethod[] = ['none', 'client_secret_basic', 'client_secret_post']

export const hashSecret = sha256

export function secretMatches(secret: string, hash: string | null): boolean {
  return !!hash && safeEqual(sha256(secret), hash)
}

function checkUri(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length > 2048) throw validationFailed(`${field} must be a URI`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw validationFailed(`${field} must be a valid URI`)
  }
  if (url.hash) throw validationFailed(`${field} must not contain a fragment`)
  if (['javascript:', 'data:', 'vbscript:', 'file:'].includes(url.protocol)) throw validationFailed(`${field} uses a forbidden scheme`)
  if ((url.protocol === 'https:' || url.protocol === 'http:') && !isPlainHost(url.hostname)) throw validationFailed(`${field} must have a DNS name or an IP address as its host`)
  return value
}

const optionalUri = (value: unknown, field: string) => (value === undefined || value === null || value === '' ? null : checkUri(value, field))

export interface RegisteredClient {
  row: OAuthClientRow
  /** Only returned at registration; never stored in the clear. */
  secret: string | undefined
}

/** Registers a client (RFC 7591 as Supabase's OAuth server accepts it). */
export async function registerClient(db: Queryable, body: Record<string, unknown>, registrationType = 'dynamic'): Promise<RegisteredClient> {
  const redirectUris = checkRedirectUris(body.redirect_uris)
  const grantTypes = body.grant_types === undefined ? GRANT_TYPES : checkGrantTypes(body.grant_types)
  let method = body.token_endpoint_auth_method as TokenEndpointAuthMethod | undefined
  if (method !== undefined && !AUTH_METHODS.includes(method)) throw validationFailed(`token_endpoint_auth_method accepts ${AUTH_METHODS.join(', ')}`)
  const requestedType = body.client_type
  if (requestedType !== undefined && requestedType !== 'public' && requestedType !== 'confidential') throw validationFailed('client_type accepts public or confidential')
  if (method === undefined) method = requestedType === 'public' ? 'none' : 'client_secret_basic'
  const clientType = method === 'none' ? 'public' : 'confidential'
  if (requestedType !== undefined && requestedType !== clientType) throw validationFailed('client_type does not match token_endpoint_auth_method')
  const name = checkName(body.client_name)

  const secret = clientType === 'confidential' ? randomBytes(32).toString('base64url') : undefined
  const { rows } = await db.query<OAuthClientRow>(
    `insert into embedded_auth.oauth_clients (id, client_secret_hash, client_type, token_endpoint_auth_method, redirect_uris, grant_types,
       client_name, client_uri, logo_uri, registration_type)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning *`,
    [randomUUID(), secret ? hashSecret(secret) : null, clientType, method, redirectUris, grantTypes, name,
      optionalUri(body.client_uri, 'client_uri'), optionalUri(body.logo_uri, 'logo_uri'), registrationType],
  )
  return { row: rows[0]!, secret }
}

const UPDATABLE = ['client_name', 'client_uri', 'logo_uri', 'redirect_uris', 'grant_types'] as const

function checkRedirectUris(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) throw validationFailed('redirect_uris is required')
  if (value.length > 20) throw validationFailed('at most 20 redirect_uris are accepted')
  return value.map((uri, i) => checkUri(uri, `redirect_uris[${i}]`))
}

function checkGrantTypes(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((g) => !GRANT_TYPES.includes(g as string))) {
    throw validationFailed(`grant_types accepts ${GRANT_TYPES.join(', ')}`)
  }
  return value as string[]
}

function checkName(value: unknown): string | null {
  const name = value === undefined || value === null ? null : String(value)
  if (name !== null && name.length > 256) throw validationFailed('client_name is too long')
  return name
}

/** An administrator's change to a client: only the fields given change, each checked as at registration. */
export async function updateClient(db: Queryable, client: OAuthClientRow, body: Record<string, unknown>): Promise<OAuthClientRow> {
  if (!UPDATABLE.some((field) => body[field] !== undefined)) throw validationFailed('No fields provided for update')
  const next = {
    client_name: body.client_name === undefined ? client.client_name : checkName(body.client_name),
    client_uri: body.client_uri === undefined ? client.client_uri : optionalUri(body.client_uri, 'client_uri'),
    logo_uri: body.logo_uri === undefined ? client.logo_uri : optionalUri(body.logo_uri, 'logo_uri'),
    redirect_uris: body.redirect_uris === undefined ? client.redirect_uris : checkRedirectUris(body.redirect_uris),
    grant_types: body.grant_types === undefined ? client.grant_types : checkGrantTypes(body.grant_types),
  }
  const { rows } = await db.query<OAuthClientRow>(
    `update embedded_auth.oauth_clients set client_name = $2, client_uri = $3, logo_uri = $4, redirect_uris = $5, grant_types = $6, updated_at = now()
     where id = $1 returning *`,
    [client.id, next.client_name, next.client_uri, next.logo_uri, next.redirect_uris, next.grant_types],
  )
  return rows[0]!
}

/** A new secret for a confidential client; the old one stops working at once. */
export async function regenerateSecret(db: Queryable, client: OAuthClientRow): Promise<RegisteredClient> {
  if (client.client_type !== 'confidential') throw validationFailed('Cannot regenerate secret for public client')
  const secret = randomBytes(32).toString('base64url')
  const { rows } = await db.query<OAuthClientRow>('update embedded_auth.oauth_clients set client_secret_hash = $2, updated_at = now() where id = $1 returning *', [
    client.id,
    hashSecret(secret),
  ])
  return { row: rows[0]!, secret }
}

export async function findClient(db: Queryable, clientId: unknown): Promise<OAuthClientRow | undefined> {
  if (typeof clientId !== 'string' || !/^[0-9a-f-]{36}$/i.test(clientId)) return undefined
  return (await db.query<OAuthClientRow>('select * from embedded_auth.oauth_clients where id = $1', [clientId])).rows[0]
}

export function clientJson(client: OAuthClientRow, secret?: string) {
  const json: Record<string, unknown> = {
    client_id: client.id,
    client_secret: secret,
    client_type: client.client_type,
    redirect_uris: client.redirect_uris,
    token_endpoint_auth_method: client.token_endpoint_auth_method,
    grant_types: client.grant_types,
    response_types: ['code'],
    client_name: client.client_name ?? undefined,
    client_uri: client.client_uri ?? undefined,
    logo_uri: client.logo_uri ?? undefined,
    registration_type: client.registration_type,
    created_at: new Date(client.created_at).toISOString(),
    updated_at: new Date(client.updated_at).toISOString(),
  }
  for (const key of Object.keys(json)) if (json[key] === undefined) delete json[key]
  return json
}

export const registrationDisabled = () =>
  new GoTrueError(403, 'oauth_dynamic_client_registration_disabled', 'Dynamic client registration is not enabled')
