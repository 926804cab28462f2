/** UTF-8 checks shared by the portable model-bytes decoder and the Node file reader. */

/**
 * The offset of the first byte that makes `bytes` invalid UTF-8 (bytes must be invalid).
 * @example firstInvalidByte(Uint8Array.of(0x61, 0xff, 0x62)) // 1
 */
export const firstInvalidByte = (bytes: Uint8Array): number => {
  // A prefix fails to decode in streaming mode exactly when it holds an invalid sequence, so the
  // shortest failing prefix ends at the offending byte (a binary search: O(n log n)).
  const fails = (k: number): boolean => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, k), { stream: true })
      return false
    } catch {
      return true
    }
  }
  let lo = 0
  let hi = bytes.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (fails(mid)) hi = mid
    else lo = mid + 1
  }
  return Math.max(0, lo - 1)
}
