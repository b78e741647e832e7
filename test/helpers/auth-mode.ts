import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose'
import { InvalidTokenError, UpstreamUnavailableError } from '../../src/auth/errors.ts'
import type { AuthMode } from '../../src/auth/mode.ts'
import type { UserContext } from '../../src/auth/user-context.ts'

/**
 * A real AuthMode for tests of what sits behind authentication: verifies tokens of the
 * embedded auth against its JWKS, as the jwt mode does. `baseUrl` is read at the first call,
 * because the server's URL is only known once it has a port.
 */
export function embeddedJwtAuthMode(baseUrl: () => string): AuthMode {
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined
  return {
    name: 'jwt',
    async authenticate(token: string): Promise<UserContext> {
      jwks ??= createRemoteJWKSet(new URL(`${baseUrl()}/auth/v1/.well-known/jwks.json`))
      let payload: JWTPayload
      try {
        ;({ payload } = await jwtVerify(token, jwks, { issuer: `${baseUrl()}/auth/v1`, audience: 'authenticated' }))
      } catch (error) {
        // jose reports token faults as JOSEErrors; anything else is the key set being unreachable.
        if (error instanceof errors.JOSEError && !(error instanceof errors.JWKSTimeout)) throw new InvalidTokenError('the access token is invalid or expired')
        throw new UpstreamUnavailableError('the key set cannot be fetched')
      }
      if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') throw new InvalidTokenError('the access token names no user')
      return {
        userId: payload.sub,
        email: typeof payload.email === 'string' && payload.email ? payload.email : undefined,
        role: typeof payload.role === 'string' ? payload.role : 'authenticated',
        sessionId: typeof payload.session_id === 'string' ? payload.session_id : undefined,
        aal: typeof payload.aal === 'string' ? payload.aal : undefined,
        claims: payload as Record<string, unknown>,
        accessToken: token,
        expiresAt: payload.exp,
        scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
        mode: 'jwt',
      }
    },
  }
}
