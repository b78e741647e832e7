import t from 'tap'
import { existsSync } from 'node:fs'
import { LONGEST_FIRST, testFiles } from '../scripts/lib/test-order.ts'

t.test('every file named as long still exists, so the order cannot rot unseen', async (t) => {
  for (const file of LONGEST_FIRST) t.ok(existsSync(file), file)
})

t.test('the long files come first, then every other test file once, in name order', async (t) => {
  const files = testFiles()
  t.same(files.slice(0, LONGEST_FIRST.length), LONGEST_FIRST)
  const rest = files.slice(LONGEST_FIRST.length)
  t.same(rest, [...rest].sort())
  t.equal(new Set(files).size, files.length, 'no file twice')
  t.ok(files.includes('test/test-order.test.ts'), 'this file is among them')
})
