/**
 * Runs `task` over and over in `workers` parallel loops until `stop()`, which resolves once
 * every loop has finished its current round. A task that throws ends only its own round.
 */
export function keepBusy(workers: number, task: (worker: number, round: number) => Promise<void>): { stop(): Promise<void> } {
  let running = true
  const loops = Array.from({ length: workers }, async (_, worker) => {
    for (let round = 0; running; round++) {
      await task(worker, round).catch(() => {})
      // Lets timers (the test's own schedule) run between rounds of a task that never waits.
      await new Promise((resolve) => setImmediate(resolve))
    }
  })
  return {
    async stop() {
      running = false
      await Promise.all(loops)
    },
  }
}
