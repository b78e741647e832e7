import { readFileSync } from 'node:fs'

/**
 * The Node flags of `npm start` (package.json's `start` script), so that every process the
 * benchmark, the soak and the memory check start runs as the server does in production.
 */
export function startFlags(): string[] {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }
  const words = manifest.scripts.start.trim().split(/\s+/)
  if (words[0] !== 'node' || words.at(-1) !== 'src/main.ts') throw new Error(`package.json's start script is not "node [flags] src/main.ts": ${manifest.scripts.start}`)
  return words.slice(1, -1)
}
