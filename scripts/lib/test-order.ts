/**
 * The order `npm test` hands test files to tap. tap runs a few files at a time; a long file
 * that starts last runs alone on an otherwise idle machine at the end. Starting the longest
 * files first (they start servers, initialise databases, or run whole client suites) lets the
 * short ones fill the gaps and shortens the run by minutes on a two-core machine.
 */
import { globSync } from 'node:fs'

/** Longest first, from measured runs; files not named here follow in name order. */
export const LONGEST_FIRST = [
  'test/mcp/conformance.test.ts',
  'test/bench.test.ts',
  'test/user-cli.test.ts',
  'test/db.test.ts',
  'test/embedded-auth/admin-users.test.ts',
  'test/first-start.test.ts',
  'test/reliability/crash-restart-embedded.test.ts',
  'test/reliability/crash-restart-postgres.test.ts',
  'test/stdio-command.test.ts',
  'test/server.test.ts',
  'test/embedded-auth/supabase-js-settings.test.ts',
  'test/mcp/access-findings.test.ts',
  'test/db-prepare-embedded.test.ts',
  'test/mcp/client-eras.test.ts',
  'test/oauth/upstream-oidc.test.ts',
  'test/auth/upstream-outage.test.ts',
  'test/user-cli-running-server.test.ts',
  'test/reliability/soak.test.ts',
  'test/reliability/multi-instance-oauth.test.ts',
  'test/reliability/multi-instance.test.ts',
]

export function testFiles(pattern = 'test/**/*.test.ts'): string[] {
  const all = globSync(pattern).sort()
  const present = new Set(all)
  const first = LONGEST_FIRST.filter((file) => present.has(file))
  const chosen = new Set(first)
  return [...first, ...all.filter((file) => !chosen.has(file))]
}
