import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

/** The command line of @modelcontextprotocol/conformance, run with this process's node. */
export const CONFORMANCE_CLI = join(createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/package.json'), '..', 'dist', 'index.js')

export interface ConformanceCheck {
  id?: string
  name?: string
  status: string
  errorMessage?: string
}

/** Every check the suite recorded under `dir` (one `checks.json` per scenario run). */
export function checksIn(dir: string): ConformanceCheck[] {
  const found: ConformanceCheck[] = []
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.name === 'checks.json') found.push(...JSON.parse(readFileSync(full, 'utf8')))
    }
  }
  walk(dir)
  return found
}
