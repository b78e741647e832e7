/**
 * Reads a duration as Go's `time.ParseDuration` does (`"24h"`, `"1h30m"`, `"-1.5s"`, `"0"`),
 * which is the format GoTrue's `ban_duration` takes. Milliseconds, or undefined when Go
 * would refuse it (including beyond Go's limit of about 292 years).
 */
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const MAX_MS = 9_223_372_036_854 // 2^63 - 1 nanoseconds
const PART = /(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/y

export function parseGoDuration(text: string): number | undefined {
  let rest = text
  let sign = 1
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1
    rest = rest.slice(1)
  }
  if (rest === '0') return 0
  if (rest === '') return undefined
  let total = 0
  PART.lastIndex = 0
  while (PART.lastIndex < rest.length) {
    const at = PART.lastIndex
    const match = PART.exec(rest)
    if (!match || match.index !== at || match[1] === '' || match[1] === '.') return undefined
    total += Number(match[1]) * UNIT_MS[match[2]!]!
  }
  return total > MAX_MS ? undefined : sign * total
}
