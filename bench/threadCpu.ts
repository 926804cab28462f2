/**
 * CPU time of each thread of this process, from Linux's /proc/self/task/<tid>/schedstat (time on
 * a CPU, in nanoseconds) or, where the kernel has no schedstat, its stat file (user + system
 * time, in clock ticks of 10 ms): what a thread computed, unlike its wall time, which a loaded
 * machine stretches by the time it waits for a core. bench/threads.ts `--phases` reads it around
 * every step to tell the calling thread's CPU from its workers'.
 */
import { readdirSync, readFileSync } from 'node:fs'

/** Linux's USER_HZ, the unit of the stat file's times (100 on every common configuration). */
const TICKS_PER_SECOND = 100

/**
 * Milliseconds of CPU per thread id so far, or undefined where /proc is not there (not Linux).
 * @example threadCpuMs()?.get(process.pid) // the main thread's CPU time
 */
export const threadCpuMs = (): Map<number, number> | undefined => {
  let tids: string[]
  try {
    tids = readdirSync('/proc/self/task')
  } catch {
    return undefined
  }
  const out = new Map<number, number>()
  for (const tid of tids) {
    try {
      out.set(Number(tid), Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6)
      continue
    } catch {
      // No schedstat (or the thread ended): the stat file's ticks.
    }
    try {
      // The fields after the command's closing parenthesis: state is the first, utime the 12th, stime the 13th.
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      out.set(Number(tid), ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND)
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out
}

/**
 * Milliseconds each thread has spent runnable but waiting for a core (schedstat's second field),
 * or undefined without schedstat: a thread's time off its core that is not sleep, which tells a
 * descheduled thread from one that waits at a barrier (Atomics.wait is sleep, not this).
 * @example threadRunQueueMs()?.get(process.pid) // the main thread's time waiting for a core
 */
export const threadRunQueueMs = (): Map<number, number> | undefined => {
  try {
    return new Map(readdirSync('/proc/self/task').map((tid) => [Number(tid), Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e6]))
  } catch {
    return undefined
  }
}

/** CPU ms each thread spent between two readings (threads absent from `before` started in between). */
export const cpuBetween = (before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): Map<number, number> =>
  new Map([...after].map(([tid, ms]) => [tid, ms - (before.get(tid) ?? 0)]))
