import t from 'tap'
import { isPlainHost } from '../../src/http/hostname.ts'

t.test('a plain host is a DNS name or an IP literal, nothing else', async (t) => {
  for (const host of ['example.com', 'a.b-c.example', 'xn--bcher-kva.example', 'localhost', 'example.com.', '127.0.0.1', '[::1]', '[2001:db8::1]']) {
    t.ok(isPlainHost(host), host)
  }
  for (const host of ['', 'a;sandbox;b.example', 'a,b.example', "a'b.example", 'a"b', '-a.example', 'a-.example', 'a..example', 'a_b.example', '[nope]', `${'a'.repeat(64)}.example`, `${'a.'.repeat(127)}a`]) {
    t.notOk(isPlainHost(host), host)
  }
})
