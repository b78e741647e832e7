/**
 * An error of the OAuth server endpoints. GoTrue answers these in OAuth's own shape,
 * `{error, error_description}`, always with status 400 (RFC 6749 §5.2 codes).
 */
export class OAuthServerError extends Error {
  readonly error: string
  constructor(error: string, description: string) {
    super(description)
    this.name = 'OAuthServerError'
    this.error = error
  }
}
