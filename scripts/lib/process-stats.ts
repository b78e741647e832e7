import { readdirSync, readFileSync } from 'node:fs'

export interface ProcessStats {
  /** Resident memory in kB (VmRSS of /proc/<pid>/status). */
  rssKb: number
  openFds: number
}

/** Memory and open descriptors of a process, from /proc (Linux). */
export function processStats(pid: number): ProcessStats {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
  return { rssKb: rss ? Number(rss[1]) : Number.NaN, openFds: readdirSync(`/proc/${pid}/fd`).length }
}
