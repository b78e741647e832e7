import t from 'tap'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { LEGACY_ALIASES, loadConfig } from '../src/config.ts'
import { READ_OPERATIONS } from '../src/mcp/tool-scopes.ts'
import { TOOLS } from '../src/mcp/tools/index.ts'

// README.md and docs/ link to each other and to the tree; a moved heading or file must fail here,
// not in a reader's browser.
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DOCS = join(ROOT, 'docs')
const FILES = [join(ROOT, 'README.md'), ...readdirSync(DOCS).filter((name) => name.endsWith('.md')).map((name) => join(DOCS, name))]

/** The text outside fenced code blocks, where links and headings are what they look like. */
function prose(markdown: string): string {
  let fenced = false
  return markdown
    .split('\n')
    .filter((line) => {
      if (line.startsWith('```')) fenced = !fenced
      return !fenced && !line.startsWith('```')
    })
    .join('\n')
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const anchors = new Set<string>()
  for (const [, text] of prose(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = text!.trim().toLowerCase().replace(/[^\p{L}\p{N}\- _]/gu, '').replace(/ /g, '-')
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    anchors.add(count === 0 ? base : `${base}-${count}`)
  }
  return anchors
}

/** Relative link and image targets (`path`, `path#anchor`, `#anchor`) of a file; web addresses are not ours to check. */
function linksOf(markdown: string): string[] {
  const text = prose(markdown).replace(/`[^`\n]*`/g, '')
  const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g), ...text.matchAll(/<img\b[^>]*\bsrc="([^"]+)"/g)].map((match) => match[1]!)
  return targets.filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
}

t.test('the anchor rule matches GitHub for the headings these files use', async (t) => {
  t.same([...anchorsOf('# oauth mode (AUTH_MODE=oauth)\n## Its OAuth 2.1 server\n## Limits\n## Limits\n```\n# not a heading\n```')], [
    'oauth-mode-auth_modeoauth',
    'its-oauth-21-server',
    'limits',
    'limits-1',
  ])
})

t.test('every relative link and anchor in README.md and docs/*.md resolves', async (t) => {
  t.ok(FILES.length > 2, 'README.md and the docs/ files are read')
  let checked = 0
  for (const file of FILES) {
    const name = relative(ROOT, file)
    for (const link of linksOf(readFileSync(file, 'utf8'))) {
      const [path, anchor] = link.split('#') as [string, string | undefined]
      const target = path === '' ? file : resolve(dirname(file), decodeURIComponent(path))
      checked++
      if (!existsSync(target)) {
        t.fail(`${name}: ${link} names a file that does not exist`)
        continue
      }
      if (anchor === undefined) continue
      t.ok(statSync(target).isFile() && target.endsWith('.md'), `${name}: ${link} puts an anchor on a markdown file`)
      t.ok(anchorsOf(readFileSync(target, 'utf8')).has(anchor), `${name}: ${link} names a heading of ${relative(ROOT, target)}`)
    }
  }
  t.ok(checked > 20, `links were found (${checked})`)
})

/** The variables src/config.ts's env-schema reads, with the default it gives (undefined: none), from its source (the schema is not exported). */
function schemaDefaults(): Map<string, string | undefined> {
  const source = readFileSync(join(ROOT, 'src/config.ts'), 'utf8')
  const start = source.indexOf('const schema = {')
  const block = source.slice(start, source.indexOf('} as const', start))
  return new Map(
    [...block.matchAll(/^ {4}([A-Z][A-Z0-9_]*): \{(.*)\},?$/gm)].map((match) => {
      const given = /\bdefault: (?:'([^']*)'|(true|false|\d+))/.exec(match[2]!)
      return [match[1]!, given ? (given[1] ?? given[2]) : undefined] as const
    }),
  )
}

/** Rows `| \`NAME\` | default | …` of a markdown file's tables: the name and the second cell as written. */
function variableRows(markdown: string): Array<[string, string]> {
  return [...prose(markdown).matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \|/gm)].map((match) => [match[1]!, match[2]!.trim()])
}

/** How docs/configuration.md writes a schema default: unset (none), empty, or the value in backticks. */
const written = (value: string | undefined) => (value === undefined ? 'unset' : value === '' ? 'empty' : `\`${value}\``)

t.test('every variable src/config.ts reads is in docs/configuration.md, and .env.example names exactly those', async (t) => {
  const defaults = schemaDefaults()
  const variables = [...defaults.keys()]
  t.ok(variables.length > 40 && variables.includes('AUTH_MODE') && variables.includes('OAUTH_ACCESS_TOKEN_LIFETIME'), 'the schema was read')
  t.equal(defaults.get('PORT'), '8000', 'a default is read from the schema')
  const configuration = readFileSync(join(DOCS, 'configuration.md'), 'utf8')
  for (const name of variables) t.ok(configuration.includes(`\`${name}\``), `${name} is in docs/configuration.md`)
  const example = new Set([...readFileSync(join(ROOT, '.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]!))
  t.same([...example].sort(), [...variables].sort(), '.env.example assigns each variable of the schema, and no other')
})

t.test('docs/configuration.md: one table row per variable of the schema, with the default the schema gives', async (t) => {
  const defaults = schemaDefaults()
  const rows = variableRows(readFileSync(join(DOCS, 'configuration.md'), 'utf8'))
  t.same(rows.map(([name]) => name).sort(), [...defaults.keys()].sort(), 'the table names each variable once, and no other')
  for (const [name, cell] of rows) t.equal(cell, written(defaults.get(name)), `${name}: the default the schema gives`)
})

t.test('a default written as one literal in any docs table is the one the schema gives', async (t) => {
  const defaults = schemaDefaults()
  let compared = 0
  for (const file of FILES) {
    for (const [name, cell] of variableRows(readFileSync(file, 'utf8'))) {
      const literal = /^`([^`$]*)`$/.exec(cell)
      // Derived defaults (`$SUPABASE_URL/…`, `http://HOST:PORT`) and prose are not the schema's to check.
      if (!literal || !defaults.has(name) || defaults.get(name) === undefined) continue
      compared++
      t.equal(literal[1], defaults.get(name), `${relative(ROOT, file)}: ${name}`)
    }
  }
  t.ok(compared > 40, `defaults were compared (${compared})`)
})

t.test('.env.example copied to .env changes nothing: every value it assigns is the default', async (t) => {
  t.same(loadConfig({}, { envFile: join(ROOT, '.env.example') }), loadConfig({}, {}))
})

t.test('the names of the earlier server that are still read are in docs/', async (t) => {
  const docs = FILES.map((file) => readFileSync(file, 'utf8')).join('\n')
  for (const legacy of Object.values(LEGACY_ALIASES)) t.ok(docs.includes(`\`${legacy}\``), `${legacy} is named`)
})

t.test('README.md is short, and its first screen has the run command, a client connection and every docs/ file', async (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n')
  t.ok(readme.length <= 210, `README.md has ${readme.length} lines`)
  const firstScreen = readme.slice(0, 40).join('\n')
  t.match(firstScreen, /^npm start\b/m, 'the run command')
  t.match(firstScreen, /^npm test\b/m, 'the test command .ci/run calls')
  t.match(firstScreen, /claude mcp add --transport http atoms http:\/\/localhost:8000\/mcp/, 'a client connection')
  const linked = new Set(linksOf(firstScreen).map((link) => link.split('#')[0]))
  for (const name of readdirSync(DOCS).filter((file) => file.endsWith('.md'))) t.ok(linked.has(`docs/${name}`), `docs/${name} is linked`)
})

/** Whether a tree path named in the docs exists; a `*` in its last part stands for any text. */
function pathExists(path: string): boolean {
  const full = join(ROOT, path)
  if (!path.includes('*')) return existsSync(full)
  const pattern = new RegExp(`^${path.split('/').pop()!.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`)
  return existsSync(dirname(full)) && readdirSync(dirname(full)).some((name) => pattern.test(name))
}

t.test('the source files, folders and migrations the docs name exist', async (t) => {
  let checked = 0
  for (const file of FILES) {
    const markdown = readFileSync(file, 'utf8')
    const named = [
      ...[...markdown.matchAll(/`((?:src|test|scripts|\.ci)\/[^`\s]*)`/g)].map((match) => match[1]!),
      // The layout block: one path at the start of each line.
      ...[...markdown.matchAll(/^((?:src|test|scripts)\/[^\s,]*)/gm)].map((match) => match[1]!),
      ...[...markdown.matchAll(/`(\d{4}_[a-z0-9_]+\.sql)`/g)].map((match) => `src/db/migrations/${match[1]!}`),
    ]
    for (const path of named) {
      checked++
      t.ok(pathExists(path), `${relative(ROOT, file)}: ${path} exists`)
    }
  }
  t.ok(checked > 20, `paths were found (${checked})`)
})

t.test('no mermaid diagram holds a semicolon, nor a sequence diagram a #: mermaid ends a message text there', async (t) => {
  let diagrams = 0
  for (const file of FILES) {
    for (const [, body] of readFileSync(file, 'utf8').matchAll(/^```mermaid\n([\s\S]*?)^```/gm)) {
      diagrams++
      const stops = body!.trimStart().startsWith('sequenceDiagram') ? /[;#]/ : /;/
      body!.split('\n').forEach((line, index) => {
        if (stops.test(line)) t.fail(`${relative(ROOT, file)}: a diagram's line ${index + 1} ends its text early: ${line.trim()}`)
      })
    }
  }
  t.ok(diagrams >= 8, `diagrams were read (${diagrams})`)
})

/** The operations each tool's input schema accepts (none for a tool without an `operation`). */
const operationsOf = (tool: (typeof TOOLS)[number]): string[] =>
  (z.toJSONSchema(tool.input, { io: 'input', unrepresentable: 'any' }) as any).properties?.operation?.enum ?? []

t.test("README.md's tools table names each tool the server serves, with its operations, entity types and link kinds", async (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const rows = new Map([...readme.matchAll(/^\| `([a-z_]+)` \| (.*) \|$/gm)].map((match) => [match[1]!, match[2]!]))
  t.same([...rows.keys()].filter((name) => name.endsWith('_tool') || TOOLS.some((tool) => tool.name === name)).sort(), TOOLS.map((tool) => tool.name).sort(), 'one row per tool')
  for (const tool of TOOLS) {
    const properties: Record<string, { enum?: string[] }> = (z.toJSONSchema(tool.input, { io: 'input', unrepresentable: 'any' }) as any).properties ?? {}
    for (const field of ['operation', 'entity_type', 'kind']) {
      for (const value of properties[field]?.enum ?? []) t.ok(rows.get(tool.name)?.includes(`\`${value}\``), `${tool.name}: ${field} ${value}`)
    }
  }
})

t.test("docs/oauth.md's scopes table gives each operation the scope the server asks for it", async (t) => {
  const oauth = readFileSync(join(DOCS, 'oauth.md'), 'utf8')
  /** `tool` op, op; `tool`; … as a map from tool to the operations written after it. */
  const cell = (scope: string) => {
    const text = new RegExp(`^\\| \`${scope}\` \\| (.*) \\|$`, 'm').exec(oauth)?.[1] ?? ''
    return new Map([...text.matchAll(/`([a-z_]+)`([^;`]*)/g)].map((match) => [match[1]!, match[2]!.split(',').map((word) => word.trim()).filter(Boolean)]))
  }
  const read = cell('atoms:read')
  const write = cell('atoms:write')
  t.ok(read.size >= 5 && write.size >= 3, 'the table was read')
  for (const tool of TOOLS) {
    const reads = READ_OPERATIONS[tool.name]
    if (reads === 'all' || reads === undefined) {
      t.same(read.get(tool.name), [], `${tool.name}: atoms:read, whatever it is asked`)
      continue
    }
    for (const operation of operationsOf(tool)) {
      const [needs, other] = reads.includes(operation) ? [read, write] : [write, read]
      t.ok(needs.get(tool.name)?.includes(operation) && !other.get(tool.name)?.includes(operation), `${tool.name} ${operation}: ${needs === read ? 'atoms:read' : 'atoms:write'}`)
    }
  }
})
