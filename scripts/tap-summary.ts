/**
 * Counts the leaf results of a TAP 14 stream: subtest summary lines are not counted again,
 * except a failed subtest with no failed leaf inside (a file that crashed, a timeout),
 * which counts as one failure so that it can never pass unseen.
 */
export class TapCounter {
  passed = 0
  failed = 0
  skipped = 0
  private frames: { indent: number; failedInside: number }[] = []
  private buffer = ''

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

  private line(text: string) {
    const subtest = /^(\s*)# Subtest: /.exec(text)
    if (subtest) {
      this.frames.push({ indent: subtest[1]!.length, failedInside: 0 })
      return
    }
    const result = /^(\s*)(not )?ok \d+(.*)$/.exec(text)
    if (!result) return
    const indent = result[1]!.length
    const ok = !result[2]
    const top = this.frames.at(-1)
    if (top && top.indent === indent) {
      this.frames.pop()
      if (!ok && top.failedInside === 0) this.recordFailure()
      return
    }
    if (/#\s*(SKIP|TODO)\b/i.test(result[3]!)) this.skipped++
    else if (ok) this.passed++
    else this.recordFailure()
  }

  private recordFailure() {
    this.failed++
    for (const frame of this.frames) frame.failedInside++
  }
}
