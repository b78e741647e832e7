/**
 * `text` without the slashes at its end. A loop rather than `/\/+$/`, which backtracks
 * quadratically over a long run of slashes that is not at the end.
 */
export function withoutTrailingSlashes(text: string): string {
  let end = text.length
  while (end > 0 && text.charCodeAt(end - 1) === 0x2f) end--
  return text.slice(0, end)
}
