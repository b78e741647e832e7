import { validationFailed } from './errors.ts'

const E164 = /^[1-9][0-9]{1,14}$/

/**
 * GoTrue's phone check: E.164 once a leading "+" and spaces are gone. The embedded auth has
 * no phone sign-in, but GoTrue checks the format before it finds that out, so it does too.
 */
export function checkPhone(phone: string): string {
  const formatted = phone.replace(/^\+/, '').replaceAll(' ', '')
  if (!E164.test(formatted)) throw validationFailed('Invalid phone number format (E.164 required)')
  return formatted
}
