import { Writable } from 'node:stream'
import { createClient, type SupabaseClient } from '@supabase/supabase-js'
import { SignJWT, decodeJwt, exportSPKI, generateKeyPair, importJWK, type JWTPayload } from 'jose'
import type { FastifyPluginAsync } from 'fastify'
import { loadSigningKeys } from '../../src/embedded-auth/keys.ts'
import { requireUser } from '../../src/auth/plugin.ts'

/** A supabase-js client as a server would hold one (no storage, no timers). */
export function supabaseClient(url: string, anonKey: string): SupabaseClient {
  return createClient(url, anonKey, { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } })
}

/** Signs up (autoconfirm is on) and returns the client holding the session. */
export async function signedInUser(url: string, anonKey: string, email: string, password = 'correct horse battery') {
  const supabase = supabaseClient(url, anonKey)
  const { data, error } = await supabase.auth.signUp({ email, password })
  if (error || !data.session) throw new Error(`sign-up failed: ${error?.message}`)
  return { supabase, session: data.session, userId: data.user!.id, password }
}

/** Protected probe routes: what `request.user` holds, and one route needing a scope. */
export const probeRoutes: FastifyPluginAsync = async (app) => {
  app.get('/test/whoami', async (request) => request.user)
  app.get('/test/needs-scope', { onRequest: requireUser({ scopes: ['entities:write'] }) }, async (request) => ({ userId: request.user.userId }))
}

export interface Probe {
  status: number
  challenge: string | null
  retryAfter: string | null
  body: any
}

export async function probe(baseUrl: string, token?: string, path = '/test/whoami', headers: Record<string, string> = {}): Promise<Probe> {
  const response = await fetch(`${baseUrl}${path}`, { headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers } })
  const text = await response.text()
  let body: any = text
  try {
    body = JSON.parse(text)
  } catch {
    /* not JSON: kept as text for the assertion message */
  }
  // The oauth mode adds where its metadata is (RFC 9728); the rest of the challenge is the same in every mode.
  const challenge = response.headers.get('www-authenticate')?.replace(/, resource_metadata="[^"]*"(, scope="[^"]*")?(?=, error|$)/, '') ?? null
  return { status: response.status, challenge, retryAfter: response.headers.get('retry-after'), body }
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/**
 * Tokens that look like the embedded auth's but are not acceptable, each made from a real
 * one: the server key is read from its data folder, so only the named defect differs.
 */
export async function forgeries(dataDir: string, realToken: string) {
  const keys = await loadSigningKeys(dataDir)
  const claims = decodeJwt(realToken)
  const now = Math.floor(Date.now() / 1000)
  const signWithServerKey = (payload: JWTPayload) => new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: keys.kid, typ: 'JWT' }).sign(keys.privateKey)
  const other = await generateKeyPair('ES256')
  const publicKey = await importJWK(keys.publicJwk, 'ES256')
  const publicPem = await exportSPKI(publicKey as any)
  const hmacWith = (secret: string) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: keys.kid, typ: 'JWT' }).sign(new TextEncoder().encode(secret))
  return {
    garbage: 'not-a-jwt',
    expired: await signWithServerKey({ ...claims, iat: now - 7200, exp: now - 3600 }),
    otherKeySameKid: await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: keys.kid, typ: 'JWT' }).sign(other.privateKey),
    otherKeyOtherKid: await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'someone-elses-key', typ: 'JWT' }).sign(other.privateKey),
    algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
    hs256WithPublicJwk: await hmacWith(JSON.stringify(keys.publicJwk)),
    hs256WithPublicPem: await hmacWith(publicPem),
    wrongIssuer: await signWithServerKey({ ...claims, iss: 'https://attacker.example/auth/v1' }),
    wrongAudience: await signWithServerKey({ ...claims, aud: 'service' }),
    noRole: await signWithServerKey({ ...claims, role: undefined }),
    withScope: await signWithServerKey({ ...claims, scope: 'entities:read entities:write' }),
  }
}

/** Collects a server's JSON log lines. */
export function logCollector() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean))
      done()
    },
  })
  return {
    stream,
    text: () => lines.join('\n'),
    /** Requests that arrived at `url` (as the server logged them). */
    arrivals: (url: string) => lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'incoming request' && entry.req?.url === url).length,
  }
}

export const CHALLENGE_NO_TOKEN = 'Bearer realm="atoms-mcp"'
export const CHALLENGE_INVALID_TOKEN = /^Bearer realm="atoms-mcp", error="invalid_token", error_description="[^"]+"$/
