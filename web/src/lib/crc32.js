// @ts-check
/**
 * CRC-32 as used by zlib, gzip, PNG and the `.vlar` replay format (IEEE 802.3): reflected
 * polynomial 0xEDB88320, initial value 0xFFFFFFFF, final XOR 0xFFFFFFFF. Table-driven, one byte per
 * step. Check value: crc32 of the ASCII bytes "123456789" is 0xCBF43926.
 */

/** The 256 CRCs of single bytes, built once at module load. */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 (IEEE) of `bytes`, equal to Python's `zlib.crc32(bytes)`.
 * @param {Uint8Array} bytes
 * @param {number} [seed] a previous result, to continue a CRC over split data
 * @returns {number} unsigned 32-bit integer
 */
export function crc32(bytes, seed = 0) {
  let crc = ~seed;
  for (let i = 0, n = bytes.length; i < n; i++) crc = TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}
