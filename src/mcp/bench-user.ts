import type { UserContext } from '../auth/user-context.ts'

/** The caller `/bench/mcp` (BENCH_UNAUTHENTICATED_MCP, benchmarks only) acts as; it owns no rows. */
export const BENCH_USER: UserContext = {
  userId: '00000000-0000-4000-8000-00000000be4c',
  email: 'bench@atoms-mcp.invalid',
  role: 'authenticated',
  sessionId: undefined,
  aal: 'aal1',
  claims: { sub: '00000000-0000-4000-8000-00000000be4c', role: 'authenticated', aud: 'authenticated' },
  accessToken: '',
  expiresAt: 4_102_444_800,
  scopes: [],
  mode: 'jwt',
}
