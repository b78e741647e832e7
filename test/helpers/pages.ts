import Fastify from 'fastify'
import { pageSecurity } from '../../src/http/page-security.ts'

async function headersOf(withPageSecurity: boolean, publicUrl: string) {
  const app = Fastify()
  if (withPageSecurity) await app.register(pageSecurity, { publicUrl })
  app.get('/', async () => 'page')
  const response = await app.inject('/')
  await app.close()
  return response.headers
}

/**
 * The headers `pageSecurity` adds to a page for a public URL, read from the plugin itself
 * (what helmet makes of the options), so the tests hold no copy of the list.
 */
export async function pageSecurityHeaders(publicUrl: string): Promise<Record<string, string>> {
  const plain = await headersOf(false, publicUrl)
  const secured = await headersOf(true, publicUrl)
  return Object.fromEntries(Object.entries(secured).filter(([name]) => !(name in plain)).map(([name, value]) => [name, String(value)]))
}
