import type { AdminUser, SupabaseAdmin } from '../../supabase/admin-users.ts'
import { AdminApiError } from '../../supabase/admin-users.ts'
import type { OidcLinks } from './links.ts'

/** Who the provider says signed in, from its verified ID token (and userinfo for the email). */
export interface OidcIdentity {
  issuer: string
  subject: string
  email: string | undefined
  /** Only a literal `email_verified: true` counts; absent is unverified. */
  emailVerified: boolean
}

/**
 * Why a verified identity gets no Supabase user. `unverified`: the provider has not verified
 * the email, and an unverified email never finds an account (anyone could claim anyone's
 * address at a provider that lets them). `unconfirmed-account`: the Supabase account with that
 * email never confirmed it, so whoever created it may not own the address. `no-account`: no
 * such user and OIDC_CREATE_USERS is off. `banned`: the Supabase user is banned.
 */
export type AccountRefusal = 'unverified' | 'unconfirmed-account' | 'no-account' | 'banned'

export class AccountRefusedError extends Error {
  readonly reason: AccountRefusal
  constructor(reason: AccountRefusal) {
    super(`no Supabase user for this sign-in (${reason})`)
    this.name = 'AccountRefusedError'
    this.reason = reason
  }
}

/**
 * One Supabase user per person: by the provider's `sub` once linked, else by a verified email
 * (linked from then on), else created when allowed. Supabase stays the one place users live.
 */
export function oidcAccounts(admin: SupabaseAdmin, links: OidcLinks, options: { createUsers: boolean }) {
  const usable = (user: AdminUser) => {
    if (user.banned) throw new AccountRefusedError('banned')
    return user
  }

  async function byEmail(identity: OidcIdentity): Promise<AdminUser> {
    if (!identity.email || !identity.emailVerified) throw new AccountRefusedError('unverified')
    const existing = await admin.findUserByEmail(identity.email)
    if (existing) {
      if (!existing.emailConfirmed) throw new AccountRefusedError('unconfirmed-account')
      return usable(existing)
    }
    if (!options.createUsers) throw new AccountRefusedError('no-account')
    try {
      return await admin.createUser(identity.email, { oidc_issuer: identity.issuer })
    } catch (error) {
      // Created meanwhile by a sign-in running at the same time: that user is the one.
      if (!(error instanceof AdminApiError) || error.status !== 422) throw error
      const created = await admin.findUserByEmail(identity.email)
      if (!created) throw error
      return usable(created)
    }
  }

  return {
    async resolve(identity: OidcIdentity): Promise<AdminUser> {
      const linked = await links.find(identity.issuer, identity.subject)
      if (linked) {
        const user = await admin.getUser(linked)
        if (user) return usable(user)
        // Deleted at Supabase: this person starts over like a first sign-in.
        await links.unlink(identity.issuer, identity.subject)
      }
      const user = await byEmail(identity)
      const winner = await links.link(identity.issuer, identity.subject, user.id)
      if (winner === user.id) return user
      return usable((await admin.getUser(winner)) ?? user)
    },
  }
}
