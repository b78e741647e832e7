/**
 * Counts the leaf results of a TAP 14 stream: subtest summary lines are not counted again,
 * except a failed subtest with no failed leaf inside (a file that crashed, a timeout),
 * which counts as one failure so that it can never pass unseen.
 *
 * It also remembers where each failure happened (file › subtest › assertion) and the first
 * lines of its YAML diagnostic, so that a run whose log is only read from the end still says
 * what failed.
 */
export interface TapFailure {
  path: string[]
  diagnostic: string[]
}

const DIAGNOSTIC_LINES = 12

export class TapCounter {
  passed = 0
  failed = 0
  skipped = 0
  readonly failures: TapFailure[] = []
  private frames: { indent: number; name: string; failedInside: number }[] = []
  private buffer = ''
  private diagnosticOf: { failure: TapFailure; indent: number } | undefined

  write(chunk: string) {
    this.buffer += chunk
    let newline: number
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      this.line(this.buffer.slice(0, newline))
      this.buffer = this.buffer.slice(newline + 1)
    }
  }

  end() {
    if (this.buffer) this.line(this.buffer)
    this.buffer = ''
  }

  /** The failures as lines to print before the summary, or nothing when there were none. */
  report(): string {
    if (this.failures.length === 0) return ''
    const lines = [`# ${this.failures.length} failed:`]
    for (const failure of this.failures) {
      lines.push(`#   not ok: ${failure.path.join(' › ')}`)
      for (const line of failure.diagnostic) lines.push(`#     ${line}`)
    }
    return lines.join('\n') + '\n'
  }

  private line(text: string) {
    if (this.diagnosticOf && this.collectDiagnostic(text)) return
    const subtest = /^(\s*)# Subtest: (.*)$/.exec(text)
    if (subtest) {
      this.frames.push({ indent: subtest[1]!.length, name: subtest[2]!.trim(), failedInside: 0 })
      return
    }
    const result = /^(\s*)(not )?ok \d+(?: - )?(.*)$/.exec(text)
    if (!result) return
    const indent = result[1]!.length
    const ok = !result[2]
    const name = result[3]!.replace(/\s+# time=[\d.]+m?s$/, '').trim()
    const top = this.frames.at(-1)
    if (top && top.indent === indent) {
      this.frames.pop()
      if (!ok && top.failedInside === 0) this.recordFailure(name, indent)
      return
    }
    if (/#\s*(SKIP|TODO)\b/i.test(result[3]!)) this.skipped++
    else if (ok) this.passed++
    else this.recordFailure(name, indent)
  }

  /** True while the line belongs to the YAML block after a failure. */
  private collectDiagnostic(text: string): boolean {
    const { failure, indent } = this.diagnosticOf!
    const trimmed = text.trim()
    const inside = text.length - text.trimStart().length > indent || trimmed === ''
    if (!inside) {
      this.diagnosticOf = undefined
      return false
    }
    if (trimmed === '---') return true
    if (trimmed === '...') {
      this.diagnosticOf = undefined
      return true
    }
    if (failure.diagnostic.length < DIAGNOSTIC_LINES && trimmed) failure.diagnostic.push(text.slice(indent + 2))
    return true
  }

  private recordFailure(name: string, indent: number) {
    this.failed++
    for (const frame of this.frames) frame.failedInside++
    const failure = { path: [...this.frames.map((frame) => frame.name), name].filter(Boolean), diagnostic: [] }
    this.failures.push(failure)
    this.diagnosticOf = { failure, indent }
  }
}
