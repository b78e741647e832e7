import t from 'tap'
import { SignJWT } from 'jose'
import { RemoteUserVerifier } from '../../src/auth/strategies/remote-user.ts'
import { REFUSAL } from '../../src/auth/strategies/token-claims.ts'
import type { SupabaseGateway } from '../../src/supabase/gateway.ts'

const ISSUER = 'http://127.0.0.1:54321/auth/v1'

/** Supabase refusing every token with the given error code (the third party we cannot run here). */
const refusingWith = (code: string): SupabaseGateway => ({
  getUser: async () => ({ ok: false, status: 403, code, message: 'refused' }),
  signInWithPassword: async () => { throw new Error('unused') },
  refreshSession: async () => { throw new Error('unused') },
  signOut: async () => { throw new Error('unused') },
})

const token = () =>
  new SignJWT({ role: 'authenticated' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('7c9e6679-7425-40de-944b-e07fc1f0b0c1')
    .setIssuer(ISSUER)
    .setAudience('authenticated')
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode('x'.repeat(32)))

t.test('finding 7: an upstream error code naming an Object.prototype property reads as any unknown refusal', async (t) => {
  for (const code of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    const verifier = new RemoteUserVerifier(refusingWith(code), { issuer: ISSUER, audience: 'authenticated', cacheTtlSeconds: 60 })
    await t.rejects(verifier.verify(await token()), { message: REFUSAL.refusedUpstream }, code)
  }
  const known = new RemoteUserVerifier(refusingWith('user_banned'), { issuer: ISSUER, audience: 'authenticated', cacheTtlSeconds: 60 })
  await t.rejects(known.verify(await token()), { message: REFUSAL.userBanned }, 'known codes keep their own wording')
})
