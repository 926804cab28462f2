/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as in zlib, gzip and PNG): the packed
 * format's checksum. Twelve lines of table-driven code, portable (no `node:zlib`), so a page can
 * check a file it fetched; a package would add a dependency to the portable core for no gain.
 */

const table = ((): Uint32Array => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/**
 * The CRC-32 of some bytes, as an unsigned 32-bit integer.
 * @example crc32(new TextEncoder().encode('123456789')) // 0xcbf43926
 */
export const crc32 = (bytes: Uint8Array): number => {
  let c = 0xffffffff
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
