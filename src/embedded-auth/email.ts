/** GoTrue's longest email address. */
export const EMAIL_MAX_LENGTH = 255

// GoTrue's format check (the checkmail package): a local part of letters, digits and
// `.!#$%&'*+/=?^_\`{|}~-`, then `@` and dot-separated host labels of at most 63 letters,
// digits and inner hyphens. A single label (`ada@localhost`) passes, as it does there.
// Split on the `@` and the dots first so each pattern is one character class: linear time.
const LOCAL_PART = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+$/
const HOST_LABEL = /^[a-zA-Z0-9-]{1,63}$/

const isHostLabel = (label: string) => HOST_LABEL.test(label) && !label.startsWith('-') && !label.endsWith('-')

/** An email address GoTrue accepts: its format rules, at most 255 characters. */
export function isEmailAddress(text: string): boolean {
  if (text.length > EMAIL_MAX_LENGTH) return false
  const at = text.indexOf('@')
  if (at < 0) return false
  return LOCAL_PART.test(text.slice(0, at)) && text.slice(at + 1).split('.').every(isHostLabel)
}
