import type { Config } from '../config.ts'
import { fetchMetadataDocument, isMetadataDocumentUrl, MetadataDocumentError } from './metadata-documents.ts'
import type { ClientRecord, OAuthStore } from './store/types.ts'

/**
 * Finds the client a `client_id` names: a registration, or for an https URL its Client ID
 * Metadata Document, cached in the database so every instance shares one fetch.
 */
export function createClientResolver(config: Config, store: OAuthStore, log?: { warn(obj: object, msg: string): void }) {
  return async (clientId: string): Promise<ClientRecord | undefined> => {
    if (!isMetadataDocumentUrl(clientId)) return store.clients.find(clientId)
    const cached = await store.metadataDocuments.get(clientId)
    if (cached) return { clientId, secretHash: null, metadata: cached, issuedAt: Math.floor(Date.now() / 1000) }
    try {
      const { metadata, cacheSeconds } = await fetchMetadataDocument(clientId, {
        timeoutMs: config.upstreamTimeoutMs,
        allowPrivate: config.oauth.metadataDocumentsAllowPrivate,
      })
      await store.metadataDocuments.put(clientId, metadata, cacheSeconds)
      return { clientId, secretHash: null, metadata, issuedAt: Math.floor(Date.now() / 1000) }
    } catch (error) {
      if (!(error instanceof MetadataDocumentError)) throw error
      log?.warn({ clientId, reason: error.message }, 'oauth: client metadata document refused')
      return undefined
    }
  }
}
