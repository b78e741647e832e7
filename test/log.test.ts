import t from 'tap'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { lazyChildLogger } from '../src/log.ts'

function collector() {
  const lines: any[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  return { lines, stream }
}

t.test('the per-request logger writes what a pino child writes, and nothing below the level', async (t) => {
  const { lines, stream } = collector()
  const parent = pino({ level: 'warn', redact: { paths: ['*.password'], censor: '[redacted]' } }, stream)
  const log = lazyChildLogger(parent, { reqId: 'r-1' }, {})
  for (const method of ['info', 'error', 'debug', 'fatal', 'warn', 'trace', 'child'] as const) t.type(log[method], 'function', `${method} is a function`)
  t.equal(log.level, 'warn', 'the level is the parent one')
  log.info('not written')
  log.debug({ body: { password: 'x' } }, 'not written either')
  log.warn({ body: { password: 'secret' } }, 'written')
  log.child({ step: 2 }).error('from a grandchild')
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(lines.length, 2, 'only the lines at or above the level')
  t.match(lines[0], { reqId: 'r-1', msg: 'written', body: { password: '[redacted]' } }, 'bindings and redaction as with a pino child')
  t.match(lines[1], { reqId: 'r-1', step: 2, msg: 'from a grandchild' })

  const routeLevel = lazyChildLogger(parent, { reqId: 'r-2' }, { level: 'error' })
  routeLevel.warn('below the route level')
  routeLevel.error('at the route level')
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(lines.length, 3, 'a route log level applies')
  t.match(lines[2], { reqId: 'r-2', msg: 'at the route level' })
})
