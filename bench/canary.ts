/**
 * The machine's memory mode, measured beside a benchmark: a fixed read-modify-write loop over
 * 8 MiB of float64 (four passes; larger than a core's L2 cache, smaller than the shared L3),
 * timed in CPU milliseconds. Its code and data never change, so when it slows down the machine
 * did, not the code under test.
 *
 * Why it exists: one-thread training steps on this project's 2-vCPU VM are bimodal (the MLP step
 * 16 or 22–25 ms of CPU per process, docs/training.md "Speed"). A compiled C loop over an
 * L3-resident 8 MiB array slowed from 0.65 to 1.70 ms at the same moments (a register-only C loop
 * by 10 %), and so did this loop (3.7 → 8.1 ms): the slow mode is the memory hierarchy, shared
 * with whatever else runs on the host, not sbnkit. `bench:train` reports this canary with every
 * run (`canaryCpuMs`); compare step times only between runs whose canaries agree.
 */

const WORDS = 1 << 20
let area: Float64Array | undefined

/** CPU milliseconds of one canary run (four passes of x ← 0.999·x + 0.001 over 8 MiB). */
export const memoryCanary = (): number => {
  const a = (area ??= new Float64Array(WORDS).fill(1.5))
  const c0 = process.cpuUsage()
  let sum = 0
  for (let pass = 0; pass < 4; pass++)
    for (let i = 0; i < a.length; i++) {
      const v = a[i]! * 0.999 + 0.001
      a[i] = v
      sum += v
    }
  const c = process.cpuUsage(c0)
  // The sum keeps the loop from being optimised away; it is always positive.
  return sum > 0 ? (c.user + c.system) / 1000 : Number.NaN
}
