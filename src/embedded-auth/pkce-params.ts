import { validationFailed } from './errors.ts'

const CHALLENGE_CHARS = /^[A-Za-z0-9._~-]+$/

/**
 * GoTrue's check of the PKCE fields a request may carry (sign-up, recovery, OTP, resend,
 * email change): both or neither, and a challenge of the RFC 7636 shape.
 */
export function checkPkceParams(challenge: string, method: string): void {
  if (!challenge !== !method) throw validationFailed('PKCE flow requires code_challenge_method and code_challenge')
  if (!challenge) return
  if (challenge.length < 43 || challenge.length > 128) throw validationFailed('code challenge has to be between 43 and 128 characters')
  if (!CHALLENGE_CHARS.test(challenge)) throw validationFailed('code challenge can only contain alphanumeric characters, hyphens, periods, underscores and tildes')
}
