import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'

// Keeps `npm run bench` working; the figures themselves are never asserted. It starts six
// processes, which on a loaded machine takes a while: more time than the default.
t.setTimeout(300_000)
t.test('the benchmark runs in smoke mode and writes its figures', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'atoms-mcp-bench-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = join(dir, 'figures.json')
  const run = spawnSync(process.execPath, ['scripts/bench.ts', '--smoke', '--connections', '4', '--json', out], { encoding: 'utf8', timeout: 280_000 })
  t.equal(run.status, 0, `the script exits 0 (stderr: ${run.stderr.slice(-2000)})`)
  t.match(run.stdout, /line\s+req\/s\s+p50 ms\s+p99 ms/)
  const figures = JSON.parse(readFileSync(out, 'utf8'))
  t.ok(figures.rows.length >= 3, 'every line reported')
  // Under a loaded test machine a bcrypt-bound autocannon line may finish nothing in a smoke
  // second, so of those only the cheap line is required to have served requests; the OAuth
  // flow line counts the flows under way at its end, so it always has figures.
  t.ok(figures.rows.find((row: any) => row.name === 'bare /health')?.requestsPerSecond > 0, '/health served requests')
  for (const row of figures.rows) t.equal(row.errors, 0, `${row.name} had no connection errors`)
  // The oauth lines run real flows: a flow that fails stops the bench, and one under load is a non-2xx.
  for (const name of ['tools/call whoami, oauth mode', 'full OAuth flow (register, authorize, sign-in, token)']) {
    const row = figures.rows.find((r: any) => r.name === name)
    t.ok(row?.requestsPerSecond > 0, `${name} has figures`)
    t.equal(row?.non2xx, 0, `${name} had no refused requests`)
  }
  const flows = figures.rows.find((r: any) => r.name.startsWith('full OAuth flow'))
  t.ok(flows?.tasks > 0 && flows.p50 > 0, 'whole OAuth flows were completed and timed')
})
