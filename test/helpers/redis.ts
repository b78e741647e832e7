/**
 * The suite's Redis, at a logical database of the test file's own: test files run at the same
 * time, all from 127.0.0.1, and would otherwise add to each other's per-address login counts.
 */
export function ownRedisDb(url: string | undefined, db: number): string | undefined {
  if (!url) return undefined
  const parsed = new URL(url)
  parsed.pathname = `/${db}`
  return parsed.href
}
