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

/**
 * Ends the Supabase session of a refresh token that was rotated long ago, whose newest
 * successor (sealed under a token we do not have) cannot be opened: the access token of
 * then ends the session while still valid, and the spent Supabase refresh token, presented
 * to Supabase, makes it revoke the whole session (its reuse detection); a session it still
 * hands out is ended here. Best effort: failures are left to Supabase's own session limits.
 */
export async function endSpentSession(ctx: OAuthContext, token: string, session: UpstreamSession | undefined): Promise<void> {
  const { upstream } = ctx
  if (session) await upstream.logout(session.accessToken).catch(() => {})
  await upstream.refresh(upstreamRefreshToken(token, session)).then((renewed) => upstream.logout(renewed.accessToken)).catch(() => {})
}
