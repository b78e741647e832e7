import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'

// Keeps `npm run soak` working: a few seconds of its mix, over the suite's PostgreSQL and Redis,
// on a simple-mode and an oauth-mode cluster of two instances each.
t.test('the soak runs briefly with no error beyond the rate limits', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'atoms-mcp-soak-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = join(dir, 'figures.json')
  const run = spawnSync(process.execPath, ['scripts/soak.ts', '--seconds', '4', '--workers', '4', '--json', out], { encoding: 'utf8', timeout: 150_000 })
  t.equal(run.status, 0, `the script exits 0 (stdout: ${run.stdout.slice(-1500)} stderr: ${run.stderr.slice(-1500)})`)
  t.match(run.stdout, /requests served\s+\d+/)
  const figures = JSON.parse(readFileSync(out, 'utf8'))
  t.equal(figures.instances, 2)
  t.equal(figures.errors, 0, 'no errors beyond rate limits')
  t.ok(figures.served['tool call'] > 0, 'tool calls were served')
  t.ok(figures.served['oauth flow'] > 0, 'whole OAuth flows, hopping between the oauth instances, were served')
  t.ok(figures.served['oauth tool call'] > 0, 'tool calls with OAuth tokens were served')
  t.same(figures.processes.map((p: any) => p.mode).sort(), ['oauth', 'oauth', 'simple', 'simple'], 'every instance of both clusters was measured')
  for (const p of figures.processes) t.ok(p.start.rssKb > 0 && p.end.openFds > 0, `memory and descriptors of ${p.url} were read`)
})
