import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { check } from 'recheck'

const SRC = join(import.meta.dirname, '../../src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

interface Found {
  where: string
  source: string
  flags: string
}

/** Every regex literal, and every `RegExp(...)` / `new RegExp(...)` whose pattern is a string literal. */
function regexesIn(file: string): { found: Found[]; dynamic: string[] } {
  const text = readFileSync(file, 'utf8')
  const tree = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const found: Found[] = []
  const dynamic: string[] = []
  const where = (node: ts.Node) => `${relative(SRC, file)}:${tree.getLineAndCharacterOfPosition(node.getStart()).line + 1}`
  const visit = (node: ts.Node) => {
    if (ts.isRegularExpressionLiteral(node)) {
      const literal = node.text
      const end = literal.lastIndexOf('/')
      found.push({ where: where(node), source: literal.slice(1, end), flags: literal.slice(end + 1) })
    } else if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && ts.isIdentifier(node.expression) && node.expression.text === 'RegExp') {
      const [pattern, flags] = node.arguments ?? []
      if (pattern && ts.isStringLiteralLike(pattern)) {
        found.push({ where: where(node), source: pattern.text, flags: flags && ts.isStringLiteralLike(flags) ? flags.text : '' })
      } else {
        dynamic.push(where(node))
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(tree)
  return { found, dynamic }
}

const files = sourceFiles(SRC)
const all = files.map(regexesIn)
const regexes = all.flatMap((r) => r.found)

t.test('no regular expression in src/ backtracks super-linearly', async (t) => {
  t.ok(regexes.length > 20, `found the regexes of src/ (${regexes.length} in ${files.length} files)`)
  for (const { where, source, flags } of regexes) {
    const diagnostics = await check(source, flags, { timeout: 10_000 })
    const complexity = diagnostics.status === 'vulnerable' ? ` (${diagnostics.complexity.summary})` : ''
    t.equal(diagnostics.status, 'safe', `${where} /${source}/${flags}${complexity}`)
  }
})

t.test('every RegExp built at run time has a literal pattern the checker can read', async (t) => {
  t.same(all.flatMap((r) => r.dynamic), [], 'no RegExp built from a variable')
})

t.test('the checker finds the pattern of the email check that froze the server', async (t) => {
  const diagnostics = await check('^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$', '')
  t.equal(diagnostics.status, 'vulnerable', 'the old email pattern is vulnerable')
})

t.test("input checked by a library's pattern is length-checked first: the workspace tool's email", async (t) => {
  const { workspaceTool } = await import('../../src/mcp/tools/workspace-tool.ts')
  const organization_id = '00000000-0000-4000-8000-000000000000'
  const long = workspaceTool.input.safeParse({ operation: 'add_member', organization_id, email: `a@${'a.'.repeat(40 * 1024)}!` })
  t.same(long.error?.issues.map((issue) => issue.code), ['too_big'], 'refused for its length; the email pattern never ran')
  t.ok(workspaceTool.input.safeParse({ operation: 'add_member', organization_id, email: 'ada@example.com' }).success, 'an address passes')
  t.same(workspaceTool.input.safeParse({ operation: 'add_member', organization_id, email: 'ada' }).error?.issues.map((issue) => issue.code), ['invalid_format'])
})
