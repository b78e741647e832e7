import type { FastifyInstance } from 'fastify'
import { Ajv } from 'ajv'

/** A body GoTrue could not read; the error handler answers it with 400 `bad_json`. */
export class BadJsonError extends Error {
  constructor(detail: string) {
    super(`Could not parse request body as JSON: ${detail}`)
    this.name = 'BadJsonError'
  }
}

/**
 * GoTrue's reading of a request body: JSON whatever the content type says, an empty body
 * or `null` as no fields (Go leaves the struct empty), anything but an object refused.
 */
export function parseGoTrueBody(text: string): Record<string, unknown> {
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new BadJsonError((error as Error).message)
  }
  if (value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new BadJsonError(`cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value} into an object`)
  }
  return value as Record<string, unknown>
}

/**
 * Makes every body in this plugin context read as GoTrue reads it. `forms` keeps the form
 * parser for the routes a browser posts forms to (the callback and the local sign-in page).
 */
export function readBodiesAsGoTrue(app: FastifyInstance, { forms }: { forms: boolean }) {
  const types = ['application/json', 'text/plain', ...(forms ? [] : ['application/x-www-form-urlencoded'])]
  for (const type of types) if (app.hasContentTypeParser(type)) app.removeContentTypeParser(type)
  const parse = (_request: unknown, body: string | Buffer, done: (error: Error | null, value?: unknown) => void) => {
    try {
      done(null, parseGoTrueBody(String(body)))
    } catch (error) {
      done(error as Error)
    }
  }
  for (const type of types) app.addContentTypeParser(type, { parseAs: 'string' }, parse)
  if (!app.hasContentTypeParser('*')) app.addContentTypeParser('*', { parseAs: 'string' }, parse)
}

/** A string field as Go decodes it: JSON `null` is allowed and reads as empty. */
export const bodyText = { type: ['string', 'null'] } as const

/** The fields `/token?grant_type=password` and `/signup` share, typed so wrong types are bad JSON. */
export const credentialFields = {
  email: bodyText,
  phone: bodyText,
  password: bodyText,
  gotrue_meta_security: { type: ['object', 'null'] },
} as const

/**
 * Body schemas checked as Go's decoder checks types: no coercion, so `{"password": 123}` is
 * bad JSON as in GoTrue, not the password "123" (Fastify's default validator coerces).
 */
const strictAjv = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: true, allErrors: false, strict: false })

export function validateAsGoTrue(app: FastifyInstance) {
  app.setValidatorCompiler(({ schema }) => strictAjv.compile(schema))
}
