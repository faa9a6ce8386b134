/**
 * CRC-32 (IEEE 802.3, the one zlib and gzip use) of each record. `zlib.crc32` where the Node
 * version has it (20.15+), else a table-driven one in JS: both give the same value.
 *
 * @internal
 */
import * as Zlib from "node:zlib"

const TABLE = (() => {
  const table = new Int32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c
  }
  return table
})()

/** @internal */
export const crc32Js = (bytes: Uint8Array, start = 0, end = bytes.length): number => {
  let c = -1
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ -1) >>> 0
}

const native = (Zlib as { readonly crc32?: (data: Uint8Array) => number }).crc32

/** @internal */
export const crc32: (bytes: Uint8Array, start?: number, end?: number) => number = native === undefined
  ? crc32Js
  : (bytes, start = 0, end = bytes.length) => native(bytes.subarray(start, end)) >>> 0
