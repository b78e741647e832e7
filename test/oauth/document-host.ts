import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import tls from 'node:tls'
import { tempDir } from '../helpers/backends.ts'

/** An https server on loopback with a throw-away certificate for `localhost`, trusted by this process. */
export async function documentHost(documents: Record<string, (url: string) => unknown>) {
  const dir = tempDir('atoms-mcp-cimd-')
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' })
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8')
  const previous = tls.getCACertificates('default')
  tls.setDefaultCACertificates([...previous, cert])
  let fetches = 0
  const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (request, response) => {
    fetches++
    const url = `https://localhost:${(server.address() as AddressInfo).port}${request.url}`
    const make = documents[request.url ?? '']
    if (!make) return response.writeHead(404).end()
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' }).end(JSON.stringify(make(url)))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `https://localhost:${(server.address() as AddressInfo).port}`
  return {
    origin,
    fetches: () => fetches,
    async close() {
      await new Promise((resolve) => server.close(resolve))
      tls.setDefaultCACertificates(previous)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

