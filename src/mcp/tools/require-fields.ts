import type { z } from 'zod'

/** Adds a schema issue for each field an operation needs and did not get (a malformed call). */
export function requireFields(ctx: z.RefinementCtx, value: Record<string, unknown>, fields: string[], what: string): void {
  for (const field of fields) {
    if (value[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `required for ${what}` })
  }
}
