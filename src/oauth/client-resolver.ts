import type { Config } from '../config.ts'
import { fetchMetadataDocument, isMetadataDocumentUrl, MetadataDocumentError } from './metadata-documents.ts'
import type { ClientMetadata } from './client-metadata.ts'
import type { ClientRecord, OAuthStore } from './store/types.ts'

/** How long a document that could not be fetched or was refused is answered from the cache. */
export const FAILURE_CACHE_SECONDS = 60
/**
 * Fetches of documents not in the cache, per window: per caller address (one caller cannot
 * make this server fetch from many hosts) and per document host (many callers together
 * cannot make it hammer one host). Beyond them the client_id is treated as unknown.
 */
export const DOCUMENT_FETCH_LIMITS = { perCaller: 10, perHost: 30, windowSeconds: 60 } as const

type Log = { warn(obj: object, msg: string): void }

/**
 * Finds the client a `client_id` names: a registration, or for an https URL its Client ID
 * Metadata Document, cached in the database so every instance shares one fetch. Anybody can
 * name any URL at /authorize, /token, /revoke, so a refusal is cached too, concurrent
 * requests for one URL share one fetch, and fetches are limited per caller and per host.
 * `caller` is the address of the request that named the client.
 */
export function createClientResolver(config: Config, store: OAuthStore, log?: Log) {
  const inFlight = new Map<string, Promise<ClientRecord | undefined>>()
  const record = (clientId: string, metadata: ClientMetadata): ClientRecord => ({ clientId, secretHash: null, metadata, issuedAt: Math.floor(Date.now() / 1000) })
  const { perCaller, perHost, windowSeconds } = DOCUMENT_FETCH_LIMITS

  async function fetchAndCache(clientId: string, caller: string): Promise<ClientRecord | undefined> {
    // The host name without the port: ports of one host do not multiply its budget.
    const host = new URL(clientId).hostname
    if ((await store.hit(`cimd-caller:${caller}`, windowSeconds)) > perCaller) {
      log?.warn({ clientId, caller }, 'oauth: client metadata document not fetched; too many fetches for this address')
      return undefined
    }
    if ((await store.hit(`cimd-host:${host}`, windowSeconds)) > perHost) {
      log?.warn({ clientId, host }, 'oauth: client metadata document not fetched; too many fetches from this host')
      return undefined
    }
    try {
      const { metadata, cacheSeconds } = await fetchMetadataDocument(clientId, {
        timeoutMs: config.upstreamTimeoutMs,
        allowPrivate: config.oauth.metadataDocumentsAllowPrivate,
      })
      await store.metadataDocuments.put(clientId, { metadata }, cacheSeconds)
      return record(clientId, metadata)
    } catch (error) {
      if (!(error instanceof MetadataDocumentError)) throw error
      log?.warn({ clientId, reason: error.message }, 'oauth: client metadata document refused')
      await store.metadataDocuments.put(clientId, { failure: error.message }, FAILURE_CACHE_SECONDS)
      return undefined
    }
  }

  return async (clientId: string, caller: string): Promise<ClientRecord | undefined> => {
    if (!isMetadataDocumentUrl(clientId)) return store.clients.find(clientId)
    const cached = await store.metadataDocuments.get(clientId)
    if (cached) return 'metadata' in cached ? record(clientId, cached.metadata) : undefined
    let pending = inFlight.get(clientId)
    if (!pending) {
      pending = fetchAndCache(clientId, caller).finally(() => inFlight.delete(clientId))
      inFlight.set(clientId, pending)
    }
    return pending
  }
}
