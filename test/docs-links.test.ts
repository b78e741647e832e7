import t from 'tap'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

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

/** The variables src/config.ts's env-schema reads, from its source (the schema is not exported). */
function schemaVariables(): string[] {
  const source = readFileSync(join(ROOT, 'src/config.ts'), 'utf8')
  const start = source.indexOf('const schema = {')
  const block = source.slice(start, source.indexOf('} as const', start))
  return [...block.matchAll(/^ {4}([A-Z][A-Z0-9_]*): \{/gm)].map((match) => match[1]!)
}

t.test('every variable src/config.ts reads is in docs/configuration.md, and .env.example names exactly those', async (t) => {
  const variables = schemaVariables()
  t.ok(variables.length > 40 && variables.includes('AUTH_MODE') && variables.includes('OAUTH_ACCESS_TOKEN_LIFETIME'), 'the schema was read')
  const configuration = readFileSync(join(DOCS, 'configuration.md'), 'utf8')
  for (const name of variables) t.ok(configuration.includes(`\`${name}\``), `${name} is in docs/configuration.md`)
  const example = new Set([...readFileSync(join(ROOT, '.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]!))
  t.same([...example].sort(), [...variables].sort(), '.env.example assigns each variable of the schema, and no other')
})
