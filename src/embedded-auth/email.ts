/** GoTrue's longest email address. */
export const EMAIL_MAX_LENGTH = 255

// Each domain label excludes the dot that separates it from the next, so every character
// has one place to match and the test runs in linear time, whatever the input.
const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/

/** A plausible email address: one `@`, a dotted domain, no spaces, at most 255 characters. */
export function isEmailAddress(text: string): boolean {
  return text.length <= EMAIL_MAX_LENGTH && EMAIL_PATTERN.test(text)
}
