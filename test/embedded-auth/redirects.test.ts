import t from 'tap'
import { globMatches, isRedirectAllowed } from '../../src/embedded-auth/redirects.ts'

t.test('allow-list globs: * stays within a label, ** crosses them, ? is one character', async (t) => {
  const cases: [string, string, boolean][] = [
    ['https://app.example.com/callback', 'https://app.example.com/callback', true],
    ['https://app.example.com/callback', 'https://app.example.com/callbacks', false],
    ['https://*.example.com/**', 'https://preview-42.example.com/auth/callback', true],
    ['https://*.example.com/**', 'https://a.b.example.com/auth/callback', false],
    ['https://*.example.com/**', 'https://example.com/auth', false],
    ['https://*.example.com/**', 'https://x.example.com/', true],
    ['http://localhost:3000/**', 'http://localhost:3000/', true],
    ['http://localhost:3000/**', 'http://localhost:3001/', false],
    ['https://app.example.com/?', 'https://app.example.com/a', true],
    ['https://app.example.com/?', 'https://app.example.com/ab', false],
    ['https://app.example.com/?', 'https://app.example.com//', false],
    ['https://app.example.com/*/done', 'https://app.example.com/step/done', true],
    ['https://app.example.com/*/done', 'https://app.example.com/a/b/done', false],
    ['**', '', true],
    ['*', 'a.b', false],
    ['a**b**c', 'a-x-b-y-c', true],
    ['a**b**c', 'a-x-c-y-b', false],
  ]
  for (const [glob, url, expected] of cases) t.equal(globMatches(glob, url), expected, `${glob} ${expected ? 'matches' : 'does not match'} ${url}`)
})

t.test('a long redirect_to against a glob of many stars is refused by a plain scan', async (t) => {
  const glob = 'https://*.example.com/**/**/**/**/**/x'
  const target = `https://a.example.com/${'/'.repeat(50_000)}`
  t.equal(globMatches(glob, target), false)
  t.equal(isRedirectAllowed(target, 'http://localhost:3000', [glob]), false)
})
