import { readFileSync } from 'node:fs'

/**
 * The Node flags of `npm start` (package.json's `start` script), so that every process the
 * benchmark, the soak and the memory check start runs as the server does in production.
 */
export function startFlags(): string[] {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }
  // `exec` makes the shell npm runs the script in become node, so a supervisor's SIGTERM to npm reaches it.
  const words = manifest.scripts.start.trim().split(/\s+/)
  if (words[0] !== 'exec' || words[1] !== 'node' || words.at(-1) !== 'src/main.ts') throw new Error(`package.json's start script is not "exec node [flags] src/main.ts": ${manifest.scripts.start}`)
  return words.slice(2, -1)
}
