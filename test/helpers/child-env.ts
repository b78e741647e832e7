/**
 * The environment of a child process that must read nothing of this one's (no .env values,
 * no test settings): PATH to find its tools, and the suite's V8 compile cache, which spares
 * each Node child about a third of a second of CPU.
 */
export function isolatedEnv(env: Record<string, string> = {}): Record<string, string> {
  const cache = process.env.NODE_COMPILE_CACHE
  return { PATH: process.env.PATH ?? '', ...(cache ? { NODE_COMPILE_CACHE: cache } : {}), ...env }
}
