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
  return [...checksByRun(dir).values()].flat()
}

/** The checks of each scenario run under `dir`, by the name of the folder the suite wrote them to. */
export function checksByRun(dir: string): Map<string, ConformanceCheck[]> {
  const found = new Map<string, ConformanceCheck[]>()
  const walk = (path: string, folder: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name)
      if (entry.isDirectory()) walk(full, entry.name)
      else if (entry.name === 'checks.json') found.set(folder, [...(found.get(folder) ?? []), ...JSON.parse(readFileSync(full, 'utf8'))])
    }
  }
  walk(dir, '')
  return found
}
