import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { isolatedEnv } from './child-env.ts'

const CLI = fileURLToPath(new URL('../../scripts/user.ts', import.meta.url))

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `npm run user -- ...args` as a child, in a folder of its own so no .env is read. */
export function runCli(cwd: string, env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: isolatedEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
