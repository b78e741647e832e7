import { request as httpsRequest } from 'node:https'
import { isIP } from 'node:net'
import { guardedLookup, isPublicAddress } from './address-guard.ts'
import { validateClientMetadata, type ClientMetadata } from './client-metadata.ts'

/** Client ID Metadata Documents: a client_id that is an https URL describing the client itself. */
export const DOCUMENT_MAX_BYTES = 10 * 1024
const MIN_CACHE_SECONDS = 60
const MAX_CACHE_SECONDS = 24 * 3600
const DEFAULT_CACHE_SECONDS = 3600

export class MetadataDocumentError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MetadataDocumentError'
  }
}

/** Whether a client_id has the form of a metadata document URL: https, a path, nothing else. */
export function isMetadataDocumentUrl(clientId: string): boolean {
  if (!clientId.startsWith('https://') || clientId.length > 2048 || clientId.includes('#')) return false
  try {
    const url = new URL(clientId)
    return url.pathname !== '/' && !url.username && !url.password && url.href === clientId
  } catch {
    return false
  }
}

export interface FetchedDocument {
  metadata: ClientMetadata
  cacheSeconds: number
}

function cacheSecondsOf(cacheControl: string | undefined): number {
  if (!cacheControl) return DEFAULT_CACHE_SECONDS
  if (/no-store|no-cache/i.test(cacheControl)) return MIN_CACHE_SECONDS
  const maxAge = /max-age=(\d+)/i.exec(cacheControl)
  const seconds = maxAge ? Number(maxAge[1]) : DEFAULT_CACHE_SECONDS
  return Math.min(MAX_CACHE_SECONDS, Math.max(MIN_CACHE_SECONDS, seconds))
}

function download(url: URL, timeoutMs: number, allowPrivate: boolean): Promise<{ body: string; cacheControl: string | undefined }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      url,
      { method: 'GET', headers: { accept: 'application/json' }, lookup: guardedLookup(allowPrivate), timeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) },
      (response) => {
        // Redirects are not followed: the document must live at its own URL.
        if (response.statusCode !== 200) {
          response.resume()
          return reject(new MetadataDocumentError(`the document answered HTTP ${response.statusCode}`))
        }
        const chunks: Buffer[] = []
        let size = 0
        response.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > DOCUMENT_MAX_BYTES) {
            request.destroy(new MetadataDocumentError(`the document is larger than ${DOCUMENT_MAX_BYTES} bytes`))
            return
          }
          chunks.push(chunk)
        })
        response.on('end', () => resolve({ body: Buffer.concat(chunks).toString('utf8'), cacheControl: response.headers['cache-control'] }))
        response.on('error', reject)
      },
    )
    request.on('timeout', () => request.destroy(new MetadataDocumentError('the document took too long')))
    request.on('error', (error) => reject(error instanceof MetadataDocumentError ? error : new MetadataDocumentError(`the document cannot be fetched (${error.name})`)))
    request.end()
  })
}

/**
 * Fetches and validates the document a client_id URL names: https only, public addresses
 * only (unless allowed for development), no redirects, bounded size and time; the document
 * must name itself as client_id and may only describe a public client.
 */
export async function fetchMetadataDocument(clientId: string, options: { timeoutMs: number; allowPrivate: boolean }): Promise<FetchedDocument> {
  if (!isMetadataDocumentUrl(clientId)) throw new MetadataDocumentError('not a metadata document URL')
  const url = new URL(clientId)
  const literal = url.hostname.replace(/^\[|\]$/g, '')
  if (isIP(literal) && !options.allowPrivate && !isPublicAddress(literal)) throw new MetadataDocumentError('the document host is not a public address')
  const { body, cacheControl } = await download(url, options.timeoutMs, options.allowPrivate)
  let document: Record<string, unknown>
  try {
    document = JSON.parse(body)
  } catch {
    throw new MetadataDocumentError('the document is not JSON')
  }
  if (!document || typeof document !== 'object' || Array.isArray(document)) throw new MetadataDocumentError('the document is not a JSON object')
  if (document.client_id !== clientId) throw new MetadataDocumentError('the document does not name its own URL as client_id')
  if (typeof document.client_name !== 'string' || !document.client_name) throw new MetadataDocumentError('the document has no client_name')
  const method = document.token_endpoint_auth_method ?? 'none'
  if (method !== 'none') throw new MetadataDocumentError('a metadata document client must be public (token_endpoint_auth_method none)')
  let metadata: ClientMetadata
  try {
    metadata = validateClientMetadata({ ...document, token_endpoint_auth_method: 'none', application_type: document.application_type ?? 'native' })
  } catch (error) {
    throw new MetadataDocumentError(`the document is not valid client metadata: ${(error as Error).message}`)
  }
  return { metadata, cacheSeconds: cacheSecondsOf(cacheControl) }
}
