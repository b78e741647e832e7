import { InvalidClientMetadataError, InvalidRedirectUriError } from './errors.ts'
import { GRANT_TYPES, TOKEN_ENDPOINT_AUTH_METHODS } from './metadata.ts'
import { redirectUriProblem } from './redirect-uris.ts'
import { grantScope } from './scopes.ts'

export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number]

/** What a client registered (RFC 7591 §2), after validation, as it is stored and shown back. */
export interface ClientMetadata {
  redirect_uris: string[]
  token_endpoint_auth_method: TokenEndpointAuthMethod
  grant_types: string[]
  response_types: string[]
  client_name?: string
  client_uri?: string
  logo_uri?: string
  scope: string
  contacts?: string[]
  tos_uri?: string
  policy_uri?: string
  software_id?: string
  software_version?: string
  application_type: 'web' | 'native'
}

export const LIMITS = {
  redirectUris: 10,
  clientName: 200,
  uri: 2000,
  shortText: 200,
  contacts: 5,
} as const

const fail = (message: string) => new InvalidClientMetadataError(message)

function optionalText(body: Record<string, unknown>, field: string, max: number): string | undefined {
  const value = body[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw fail(`${field} must be a string`)
  if (value.length > max) throw fail(`${field} may have at most ${max} characters`)
  // Control characters have no place in a name shown to a user.
  if (/[\u0000-\u001f\u007f]/.test(value)) throw fail(`${field} may not contain control characters`)
  return value
}

function optionalHttpsUri(body: Record<string, unknown>, field: string): string | undefined {
  const value = optionalText(body, field, LIMITS.uri)
  if (value === undefined) return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw fail(`${field} must be an absolute https URL`)
  }
  if (url.protocol !== 'https:' || url.username || url.password) throw fail(`${field} must be an absolute https URL without userinfo`)
  return value
}

function stringList(body: Record<string, unknown>, field: string, fallback: string[], allowed: readonly string[]): string[] {
  const value = body[field]
  if (value === undefined || value === null) return fallback
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw fail(`${field} must be an array of strings`)
  const unknown = value.filter((item) => !allowed.includes(item))
  if (unknown.length) throw fail(`${field} may only contain ${allowed.join(', ')}`)
  return [...new Set(value as string[])]
}

/**
 * Validates a registration request (RFC 7591 §2 and §3.2.2) and returns the metadata to
 * store. Unknown fields are ignored, as §2 allows; every field that is kept is checked.
 */
export function validateClientMetadata(body: Record<string, unknown>): ClientMetadata {
  const uris = body.redirect_uris
  if (!Array.isArray(uris) || uris.length === 0) throw new InvalidRedirectUriError('redirect_uris must be a non-empty array')
  if (uris.length > LIMITS.redirectUris) throw new InvalidRedirectUriError(`at most ${LIMITS.redirectUris} redirect URIs may be registered`)
  for (const uri of uris) {
    const problem = redirectUriProblem(uri as string)
    if (problem) throw new InvalidRedirectUriError(problem)
  }

  const method = body.token_endpoint_auth_method ?? 'client_secret_basic'
  if (typeof method !== 'string' || !(TOKEN_ENDPOINT_AUTH_METHODS as readonly string[]).includes(method)) {
    throw fail(`token_endpoint_auth_method must be one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}`)
  }
  const grantTypes = stringList(body, 'grant_types', ['authorization_code'], GRANT_TYPES)
  if (!grantTypes.includes('authorization_code')) throw fail('grant_types must include authorization_code')
  const responseTypes = stringList(body, 'response_types', ['code'], ['code'])
  if (!responseTypes.includes('code')) throw fail('response_types must include code')

  const applicationType = body.application_type ?? 'web'
  if (applicationType !== 'web' && applicationType !== 'native') throw fail('application_type must be web or native')

  let scope: string
  try {
    scope = grantScope(optionalText(body, 'scope', LIMITS.shortText))
  } catch (error) {
    throw fail((error as Error).message)
  }

  const contacts = body.contacts
  if (contacts !== undefined && (!Array.isArray(contacts) || contacts.length > LIMITS.contacts || contacts.some((c) => typeof c !== 'string' || c.length > 320))) {
    throw fail(`contacts must be an array of at most ${LIMITS.contacts} strings`)
  }

  const metadata: ClientMetadata = {
    redirect_uris: [...new Set(uris as string[])],
    token_endpoint_auth_method: method as TokenEndpointAuthMethod,
    grant_types: grantTypes,
    response_types: responseTypes,
    scope,
    application_type: applicationType,
  }
  const optional: Partial<ClientMetadata> = {
    client_name: optionalText(body, 'client_name', LIMITS.clientName),
    client_uri: optionalHttpsUri(body, 'client_uri'),
    logo_uri: optionalHttpsUri(body, 'logo_uri'),
    tos_uri: optionalHttpsUri(body, 'tos_uri'),
    policy_uri: optionalHttpsUri(body, 'policy_uri'),
    software_id: optionalText(body, 'software_id', LIMITS.shortText),
    software_version: optionalText(body, 'software_version', LIMITS.shortText),
    contacts: contacts as string[] | undefined,
  }
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) (metadata as any)[key] = value
  return metadata
}
