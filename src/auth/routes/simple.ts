import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { bearerTokenFrom } from '../bearer-token.ts'
import { refusalFor } from '../challenge.ts'
import { AuthError, InvalidTokenError } from '../errors.ts'
import type { VerifierDeps } from '../strategies/verifiers.ts'
import type { GatewaySession } from '../../supabase/gateway.ts'

const userSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string' }, email: { type: 'string' } },
} as const

const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const

const sessionSchema = {
  type: 'object',
  required: ['access_token', 'token_type', 'expires_in', 'expires_at', 'refresh_token', 'user', 'message'],
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string' },
    expires_in: { type: 'integer' },
    expires_at: { type: 'integer' },
    refresh_token: { type: 'string' },
    user: userSchema,
    message: { type: 'string' },
  },
} as const

const failures = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 429: errorSchema, 503: errorSchema }

const loginSchema = {
  body: {
    type: 'object',
    required: ['email', 'password'],
    properties: {
      email: { type: 'string', minLength: 1, maxLength: 320 },
      password: { type: 'string', minLength: 1, maxLength: 1024 },
    },
  },
  response: { 200: sessionSchema, ...failures },
} as const

const refreshSchema = {
  body: {
    type: 'object',
    required: ['refresh_token'],
    properties: { refresh_token: { type: 'string', minLength: 1, maxLength: 4096 } },
  },
  response: { 200: sessionSchema, ...failures },
} as const

const statusSchema = {
  response: {
    200: {
      type: 'object',
      required: ['authenticated', 'user', 'expires_at', 'mode'],
      properties: { authenticated: { type: 'boolean' }, user: userSchema, expires_at: { type: 'integer' }, mode: { type: 'string' } },
    },
    401: {
      type: 'object',
      required: ['authenticated', 'error'],
      properties: { authenticated: { type: 'boolean' }, error: { type: 'string' } },
    },
    503: errorSchema,
  },
} as const

const logoutSchema = {
  response: { 200: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } }, ...failures },
} as const

// The same words for an unknown email and a wrong password: the answer never tells which.
const INVALID_CREDENTIALS = { error: 'invalid_credentials', message: 'Invalid login credentials' }

function sessionBody(session: GatewaySession, message: string) {
  return {
    access_token: session.access_token,
    token_type: 'bearer',
    expires_in: session.expires_in,
    expires_at: session.expires_at,
    refresh_token: session.refresh_token,
    user: { id: session.user.id, email: session.user.email },
    message,
  }
}

/** The `{error, message}` answers of these routes, with the challenge on a 401 and Retry-After on a 503. */
function sendSimpleError(reply: FastifyReply, error: AuthError) {
  const refusal = refusalFor(error)
  return reply.code(refusal.status).headers(refusal.headers).send({ error: refusal.error, message: refusal.description })
}

function simpleErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof AuthError) return sendSimpleError(reply, error)
  if (error.validation) return reply.code(400).send({ error: 'invalid_request', message: error.message })
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return reply.code(error.statusCode).send({ error: 'invalid_request', message: error.message })
  }
  request.log.error({ err: error }, 'simple auth: unexpected failure')
  return reply.code(500).send({ error: 'server_error', message: 'unexpected failure' })
}

/**
 * The sign-in endpoints of `AUTH_MODE=simple`, for MCP clients that cannot run a browser
 * flow: they post credentials and get the Supabase session itself.
 */
export function simpleAuthRoutes({ gateway }: VerifierDeps): FastifyPluginAsync {
  return async (app) => {
    app.setErrorHandler(simpleErrorHandler)
    async function limitLogin(request: FastifyRequest, reply: FastifyReply) {
      const retryAfter = await app.loginRateLimiter.attempt(request, (request.body as { email: string }).email)
      if (retryAfter === undefined) return
      return reply
        .code(429)
        .header('retry-after', String(retryAfter))
        .send({ error: 'too_many_requests', message: `Too many login attempts; retry in ${retryAfter} s` })
    }

    app.post('/auth/login', { schema: loginSchema, preHandler: limitLogin }, async (request, reply) => {
      const { email, password } = request.body as { email: string; password: string }
      const result = await gateway.signInWithPassword(email.trim(), password)
      if (result.ok) return sessionBody(result.session, 'Login successful')
      if (result.code === 'invalid_credentials' || result.code === 'validation_failed') {
        return reply.code(401).send(INVALID_CREDENTIALS)
      }
      // Only someone holding the right password gets here, so naming the reason leaks nothing.
      return reply.code(403).send({ error: result.code, message: result.message })
    })

    app.get('/auth/status', { schema: statusSchema }, async (request, reply) => {
      try {
        const user = await app.authMode.authenticate(bearerTokenFrom(request.headers.authorization))
        return { authenticated: true, user: { id: user.userId, email: user.email }, expires_at: user.expiresAt, mode: user.mode }
      } catch (error) {
        if (!(error instanceof InvalidTokenError)) throw error
        const refusal = refusalFor(error)
        return reply.code(401).headers(refusal.headers).send({ authenticated: false, error: refusal.description })
      }
    })

    app.post('/auth/refresh', { schema: refreshSchema }, async (request, reply) => {
      const result = await gateway.refreshSession((request.body as { refresh_token: string }).refresh_token)
      if (result.ok) return sessionBody(result.session, 'Token refreshed')
      return reply.code(401).send({ error: 'invalid_grant', message: 'The refresh token is invalid, expired or already used' })
    })

    app.post('/auth/logout', { schema: logoutSchema }, async (request, reply) => {
      const token = bearerTokenFrom(request.headers.authorization)
      const user = await app.authMode.authenticate(token)
      const result = await gateway.signOut(token, 'local')
      // An already-ended session is the outcome asked for; anything else was refused.
      if (!result.ok && result.code !== 'session_not_found') return sendSimpleError(reply, new InvalidTokenError(result.message))
      app.authMode.forget?.(token, user.expiresAt)
      return { message: 'Logout successful' }
    })
  }
}
