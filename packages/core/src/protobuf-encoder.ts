/**
 * The few protocol-buffer encoding primitives the Prometheus protobuf exposition needs (varints, zigzag, doubles,
 * strings, length-delimited nested messages), written into one growing buffer. Nested messages reserve one length
 * byte and are shifted in place when their length needs more (`fork`/`join`), so nothing is encoded twice.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;

function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

export class ProtoEncoder {
  buf: Buffer;
  pos = 0;
  private readonly starts: number[] = [];

  constructor(size: number, reuse?: Buffer) {
    this.buf = reuse !== undefined && reuse.length >= size ? reuse : Buffer.allocUnsafe(size);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A non-negative integer (up to 2^53) as a varint. */
  varint(v: number): void {
    this.ensure(8);
    const buf = this.buf;
    while (v >= 128) {
      buf[this.pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    buf[this.pos++] = v;
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** `uint32`/`uint64`/`int64` (non-negative) or an enum field. */
  uint(field: number, v: number): void {
    this.tag(field, WIRE_VARINT);
    this.varint(v);
  }

  /** `sint32`/`sint64` field (zigzag). */
  sint(field: number, v: number): void {
    this.tag(field, WIRE_VARINT);
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  double(field: number, v: number): void {
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  string(field: number, s: string): void {
    this.tag(field, WIRE_LENGTH);
    const max = s.length * 3;
    this.ensure(max + 5);
    // room for the longest length the string could need; the bytes move back when its length is shorter
    const lengthAt = this.pos;
    const guess = varintSize(max);
    this.pos += guess;
    const written = this.buf.write(s, this.pos, 'utf8');
    const needed = varintSize(written);
    if (needed !== guess)
      this.buf.copyWithin(lengthAt + needed, lengthAt + guess, lengthAt + guess + written);
    this.pos = lengthAt;
    this.varint(written);
    this.pos += written;
  }

  /** Raw bytes (an already encoded field). */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Start a length-delimited field (a nested message); `field` 0: no tag (the length prefix of a delimited stream). */
  fork(field: number): void {
    if (field !== 0) this.tag(field, WIRE_LENGTH);
    this.ensure(1);
    this.starts.push(this.pos);
    this.pos++;
  }

  /** End the field `fork` started: write its length, moving its body if the length takes more than one byte. */
  join(): void {
    const start = this.starts.pop() as number;
    const length = this.pos - start - 1;
    const size = varintSize(length);
    if (size > 1) {
      this.ensure(size - 1);
      this.buf.copyWithin(start + size, start + 1, this.pos);
    }
    const end = start + size + length;
    this.pos = start;
    this.varint(length);
    this.pos = end;
  }

  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
