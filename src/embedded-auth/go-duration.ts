/**
 * Reads a duration as Go's `time.ParseDuration` does (`"24h"`, `"1h30m"`, `"-1.5s"`, `"0"`),
 * which is the format GoTrue's `ban_duration` takes. Milliseconds, or undefined when Go
 * would refuse it (including beyond Go's limit of about 292 years).
 */
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const MAX_MS = 9_223_372_036_854 // 2^63 - 1 nanoseconds
// Longest first, so that `ms` is not read as `m`.
const UNITS = Object.keys(UNIT_MS).sort((a, b) => b.length - a.length)
const isDigit = (code: number) => code >= 0x30 && code <= 0x39

export function parseGoDuration(text: string): number | undefined {
  let rest = text
  let sign = 1
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1
    rest = rest.slice(1)
  }
  if (rest === '0') return 0
  if (rest === '') return undefined
  // Scanned by hand: each part is a decimal number, then its unit, one character at a time.
  let total = 0
  let at = 0
  while (at < rest.length) {
    const start = at
    while (at < rest.length && isDigit(rest.charCodeAt(at))) at++
    if (rest[at] === '.') {
      at++
      while (at < rest.length && isDigit(rest.charCodeAt(at))) at++
    }
    const number = rest.slice(start, at)
    if (number === '' || number === '.') return undefined
    const unit = UNITS.find((candidate) => rest.startsWith(candidate, at))
    if (!unit) return undefined
    at += unit.length
    total += Number(number) * UNIT_MS[unit]!
  }
  return total > MAX_MS ? undefined : sign * total
}
