/**
 * One event on disk:
 *
 *   u32 LE  payload length
 *   u32 LE  CRC-32 of the payload
 *   payload: f64 LE sequence number, f64 LE append time (epoch millis), u32 LE type length,
 *            the type (UTF-8), the data (UTF-8, the rest of the payload)
 *
 * A record whose length runs past the end of the file, or whose checksum does not match, is torn
 * (a write cut short by a crash): it and everything after it are dropped.
 *
 * @internal
 */
import { crc32 } from "./crc32.js"

/** @internal */
export const HEADER_BYTES = 8
const FIXED_BYTES = 20

/** @internal */
export interface Record {
  readonly seq: number
  readonly at: number
  readonly type: string
  readonly data: string
}

/** @internal */
export const encode = (seq: number, at: number, type: string, data: string): Buffer => {
  const typeBytes = Buffer.byteLength(type)
  const payload = FIXED_BYTES + typeBytes + Buffer.byteLength(data)
  const buf = Buffer.allocUnsafe(HEADER_BYTES + payload)
  buf.writeUInt32LE(payload, 0)
  buf.writeDoubleLE(seq, 8)
  buf.writeDoubleLE(at, 16)
  buf.writeUInt32LE(typeBytes, 24)
  buf.write(type, 28, typeBytes, "utf8")
  buf.write(data, 28 + typeBytes, "utf8")
  buf.writeUInt32LE(crc32(buf, HEADER_BYTES, buf.length), 4)
  return buf
}

/** Why parsing stopped before the end of the bytes. */
export type Stop = "incomplete" | "checksum" | "format"

/**
 * Parses whole records from `buf[start..end)`, calling `onRecord` with each and the offset just
 * past it; stops early when `onRecord` returns false. Returns where parsing stopped and why, if
 * that is not `end`.
 *
 * @internal
 */
export const parse = (
  buf: Buffer,
  start: number,
  end: number,
  onRecord: (record: Record, next: number) => boolean | void
): { readonly offset: number; readonly stop: Stop | undefined } => {
  let pos = start
  while (pos < end) {
    if (end - pos < HEADER_BYTES) return { offset: pos, stop: "incomplete" }
    const length = buf.readUInt32LE(pos)
    const payload = pos + HEADER_BYTES
    if (end - payload < length) return { offset: pos, stop: "incomplete" }
    if (length < FIXED_BYTES) return { offset: pos, stop: "format" }
    if (crc32(buf, payload, payload + length) !== buf.readUInt32LE(pos + 4)) return { offset: pos, stop: "checksum" }
    const typeBytes = buf.readUInt32LE(payload + 16)
    if (typeBytes > length - FIXED_BYTES) return { offset: pos, stop: "format" }
    const typeStart = payload + FIXED_BYTES
    const record: Record = {
      seq: buf.readDoubleLE(payload),
      at: buf.readDoubleLE(payload + 8),
      type: buf.toString("utf8", typeStart, typeStart + typeBytes),
      data: buf.toString("utf8", typeStart + typeBytes, payload + length)
    }
    pos = payload + length
    if (onRecord(record, pos) === false) break
  }
  return { offset: pos, stop: undefined }
}

/** The length of the record starting at `buf[pos]` (header included), if its header is there. */
export const recordLength = (buf: Buffer, pos: number, end: number): number | undefined =>
  end - pos < HEADER_BYTES ? undefined : HEADER_BYTES + buf.readUInt32LE(pos)
