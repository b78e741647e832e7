import t from 'tap'
import { TapCounter } from '../scripts/tap-summary.ts'

const stream = `TAP version 14
# Subtest: test/a.test.ts
    # Subtest: signs in
        ok 1 - a session
        not ok 2 - the token is bound
          ---
          at:
            fileName: test/a.test.ts
            lineNumber: 12
          found: authenticated
          wanted: https://mcp.example/mcp
          ...
        ok 3 - should be equal
        1..3
    not ok 1 - signs in # time=12.5ms
    1..1
not ok 1 - test/a.test.ts # time=40ms
# Subtest: test/b.test.ts
    ok 1 - skipped for now # SKIP no redis
    1..1
ok 2 - test/b.test.ts # time=3ms
# Subtest: test/c.test.ts
    ok 1 - before the crash
not ok 3 - test/c.test.ts # time=9ms
  ---
  signal: SIGKILL
  ...
1..3
`

t.test('counts leaves once, and names each failure with its diagnostic', async (t) => {
  const counter = new TapCounter()
  // Chunks split mid-line, as a pipe delivers them.
  for (let i = 0; i < stream.length; i += 7) counter.write(stream.slice(i, i + 7))
  counter.end()
  t.equal(counter.passed, 3)
  t.equal(counter.skipped, 1)
  t.equal(counter.failed, 2, 'the failed leaf, and the file that failed with no failed leaf')
  t.same(counter.failures.map((f) => f.path), [
    ['test/a.test.ts', 'signs in', 'the token is bound'],
    ['test/c.test.ts'],
  ])
  t.match(counter.failures[0]!.diagnostic.join('\n'), /found: authenticated/)
  t.match(counter.failures[1]!.diagnostic.join('\n'), /signal: SIGKILL/)
  const report = counter.report()
  t.match(report, /^# 2 failed:/)
  t.match(report, /not ok: test\/a\.test\.ts › signs in › the token is bound/)
  t.notMatch(report, /time=/, 'timings are not part of a name')
})

t.test('a clean run reports nothing', async (t) => {
  const counter = new TapCounter()
  counter.write('# Subtest: x\n    ok 1 - y\n    1..1\nok 1 - x\n')
  counter.end()
  t.equal(counter.passed, 1)
  t.equal(counter.report(), '')
})
