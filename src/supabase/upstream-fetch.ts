import { UpstreamUnavailableError } from '../auth/errors.ts'
import { abortableFetch } from './http-request.ts'

const DEFAULT_RETRY_AFTER_SECONDS = 5

function retryAfterOf(response: Response): number {
  const seconds = Number(response.headers.get('retry-after'))
  return Number.isInteger(seconds) && seconds > 0 && seconds <= 300 ? seconds : DEFAULT_RETRY_AFTER_SECONDS
}

/**
 * `fetch` bounded by `timeoutMs`, for every call this server makes to Supabase (the auth API
 * and the JWKS). A network failure, a timeout, a 5xx and a 429 all throw
 * `UpstreamUnavailableError`: the caller answers 503, never 401 and never 500.
 */
export async function fetchUpstream(input: string | URL | Request, init: RequestInit | undefined, timeoutMs: number): Promise<Response> {
  const deadline = AbortSignal.timeout(timeoutMs)
  const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline
  let response: Response
  try {
    response = await abortableFetch(input, { ...init, signal })
  } catch (error) {
    const timedOut = deadline.aborted
    throw new UpstreamUnavailableError(timedOut ? `Supabase did not answer within ${timeoutMs} ms` : 'Supabase cannot be reached', DEFAULT_RETRY_AFTER_SECONDS, { cause: error })
  }
  if (response.status >= 500 || response.status === 429) {
    await response.body?.cancel().catch(() => {})
    throw new UpstreamUnavailableError(`Supabase answered ${response.status}`, retryAfterOf(response))
  }
  return response
}
