import { TTL, type OAuthContext } from './context.ts'
import { TemporarilyUnavailableError } from './errors.ts'
import type { RefreshClaim } from './store/types.ts'
import type { UpstreamSession } from './upstream.ts'

const POLL_MS = 100

/**
 * Claims a refresh token for rotation or revocation. While another request (maybe on
 * another instance) is rotating it, waits for that rotation to finish, at most as long as
 * one call to Supabase may take.
 */
export async function claimRefreshToken(ctx: OAuthContext, token: string, clientId: string): Promise<Exclude<RefreshClaim, { kind: 'busy' }>> {
  const deadline = Date.now() + ctx.config.upstreamTimeoutMs + 2000
  for (;;) {
    const claim = await ctx.store.refreshTokens.claim(token, clientId, TTL.replayWindow)
    if (claim.kind !== 'busy') return claim
    if (Date.now() > deadline) throw new TemporarilyUnavailableError('the refresh token is being rotated; retry shortly')
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

/**
 * The Supabase refresh token behind a refresh token of ours: the one of the session its row
 * keeps, or, for a row that keeps none (stored before sessions were kept, which only ever
 * held Supabase's), the token itself.
 */
export const upstreamRefreshToken = (token: string, session: UpstreamSession | undefined) => session?.refreshToken ?? token
