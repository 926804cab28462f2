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

/** This process's thread ids, or undefined where /proc is not there (not Linux). */
const taskIds = (): string[] | undefined => {
  try {
    return readdirSync('/proc/self/task')
  } catch {
    return undefined
  }
}

/** Field `field` of a thread's schedstat in ms (0: time on a CPU, 1: time runnable but waiting for one), or undefined (no schedstat, or the thread ended). */
const schedstatMs = (tid: string, field: 0 | 1): number | undefined => {
  try {
    return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[field]) / 1e6
  } catch {
    return undefined
  }
}

/** A thread's user + system time in ms from its stat file's ticks, or undefined if it ended. */
const statMs = (tid: string): number | undefined => {
  try {
    // The fields after the command's closing parenthesis: state is the first, utime the 12th, stime the 13th.
    const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND
  } catch {
    return undefined
  }
}

/** `ms` of every listed thread it can read (a thread that ended between the listing and the read is left out). */
const perThread = (tids: readonly string[], ms: (tid: string) => number | undefined): Map<number, number> => {
  const out = new Map<number, number>()
  for (const tid of tids) {
    const v = ms(tid)
    if (v !== undefined) out.set(Number(tid), v)
  }
  return out
}

/**
 * Milliseconds of CPU per thread id so far, or undefined where /proc is not there (not Linux):
 * schedstat where the kernel has it, else the stat file's ticks.
 * @example threadCpuMs()?.get(process.pid) // the main thread's CPU time
 */
export const threadCpuMs = (): Map<number, number> | undefined => {
  const tids = taskIds()
  return tids === undefined ? undefined : perThread(tids, (tid) => schedstatMs(tid, 0) ?? statMs(tid))
}

/**
 * Milliseconds each thread has spent runnable but waiting for a core (schedstat's second field),
 * or undefined without schedstat: a thread's time off its core that is not sleep, which tells a
 * descheduled thread from one that waits at a barrier (Atomics.wait is sleep, not this).
 * @example threadRunQueueMs()?.get(process.pid) // the main thread's time waiting for a core
 */
export const threadRunQueueMs = (): Map<number, number> | undefined => {
  const tids = taskIds()
  const out = tids === undefined ? undefined : perThread(tids, (tid) => schedstatMs(tid, 1))
  return out === undefined || out.size === 0 ? undefined : out
}

/** CPU ms each thread spent between two readings (threads absent from `before` started in between). */
export const cpuBetween = (before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): Map<number, number> =>
  new Map([...after].map(([tid, ms]) => [tid, ms - (before.get(tid) ?? 0)]))
