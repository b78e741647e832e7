import type { Queryable } from '../../db/db.ts'

/** Which Supabase user a provider's subject is (migration 0060). */
export interface OidcLinks {
  find(issuer: string, subject: string): Promise<string | undefined>
  /** Links a subject to a user; a link made meanwhile by another request wins, and is returned. */
  link(issuer: string, subject: string, userId: string): Promise<string>
  /** Forgets a link whose user is gone from Supabase. */
  unlink(issuer: string, subject: string): Promise<void>
}

export function postgresOidcLinks(db: Queryable): OidcLinks {
  return {
    async find(issuer, subject) {
      const { rows } = await db.query<{ user_id: string }>('select user_id from atoms_oauth.oidc_links where issuer = $1 and subject = $2', [issuer, subject])
      return rows[0]?.user_id
    },
    async link(issuer, subject, userId) {
      const { rows } = await db.query<{ user_id: string }>(
        `insert into atoms_oauth.oidc_links (issuer, subject, user_id) values ($1, $2, $3)
         on conflict (issuer, subject) do update set issuer = excluded.issuer returning user_id`,
        [issuer, subject, userId],
      )
      return rows[0]!.user_id
    },
    async unlink(issuer, subject) {
      await db.query('delete from atoms_oauth.oidc_links where issuer = $1 and subject = $2', [issuer, subject])
    },
  }
}
