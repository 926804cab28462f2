/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as in zlib, gzip, zip and PNG): the
 * checksum of the dataset cache and of the packed export format. Table-driven and portable (no
 * `node:zlib`), so a page can check a file it fetched; a package would add a dependency to the
 * portable core for no gain.
 */

const CRC_TABLE = ((): Uint32Array => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/**
 * The CRC-32 of some bytes, as an unsigned 32-bit integer. Passing the CRC of earlier bytes as
 * `previous` continues it: crc32(b, crc32(a)) = crc32(a ++ b).
 * @example crc32(new TextEncoder().encode('123456789')) // 0xcbf43926
 */
export const crc32 = (bytes: Uint8Array, previous = 0): number => {
  let c = (previous ^ 0xffffffff) >>> 0
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
