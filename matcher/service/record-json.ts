/**
 * Records messages: the JSON records of a group (an input message, or a batch when
 * coalescing) as arrays no larger than the server's `max_payload`. Records come written by
 * the core (core-reads.ts, in runs) or by JSON.stringify (the object path).
 */

const encoder = new TextEncoder();

/** A growable byte buffer, reused from batch to batch. */
export class ByteWriter {
  buf: Uint8Array;
  len = 0;

  constructor(initial = 64 * 1024) {
    this.buf = new Uint8Array(initial);
  }

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.len === this.buf.length) this.ensure(1);
    this.buf[this.len++] = b;
  }

  /** Any string, as UTF-8. */
  utf8(s: string): void {
    this.ensure(s.length * 3);
    this.len += encoder.encodeInto(s, this.buf.subarray(this.len)).written;
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.len);
    this.len += src.length;
  }
}

/**
 * Records of one group (an input message, or a whole batch when records are coalesced),
 * written one after the other into a JSON array that is cut into messages of at most
 * `maxBytes`; a group of one record from a single-read message is that record alone.
 */
export class RecordsMessages {
  private readonly w: ByteWriter;
  private count = 0;
  private mark = 0;
  private readonly done: Uint8Array[] = [];
  /** Records in each finished message, in order. */
  readonly counts: number[] = [];

  constructor(writer: ByteWriter, private readonly maxBytes: number, private readonly single: boolean) {
    this.w = writer;
    writer.len = 0;
  }

  /** Before a record is written into `w`: its separator. */
  private begin(): void {
    this.mark = this.w.len;
    this.w.byte(this.count === 0 ? 0x5b : 0x2c);
  }

  /** After it: starts a new message when this one went over `maxBytes`. */
  private commit(): void {
    const w = this.w;
    if (this.count > 0 && w.len + 1 > this.maxBytes) {
      const message = new Uint8Array(this.mark + 1);
      message.set(w.buf.subarray(0, this.mark));
      message[this.mark] = 0x5d;
      this.done.push(message);
      this.counts.push(this.count);
      w.buf.copyWithin(1, this.mark + 1, w.len);
      w.buf[0] = 0x5b;
      w.len = w.len - this.mark;
      this.count = 1;
    } else {
      this.count++;
    }
  }

  /**
   * Records k..last of `src`, written comma-separated by the core (record i ends at
   * ends[i]): copied a message's worth at a time.
   */
  addRun(src: Uint8Array, ends: Uint32Array, k: number, last: number): void {
    const w = this.w;
    while (k <= last) {
      const start = k === 0 ? 0 : ends[k - 1] + 1;
      // The records that fit: a message holds at least one, and `[`/`,` and `]` besides.
      const room = this.maxBytes - w.len - 2;
      let upto = this.count === 0 ? k : k - 1;
      while (upto < last && ends[upto + 1] - start <= room) upto++;
      if (upto < k) {
        this.close();
        continue;
      }
      w.byte(this.count === 0 ? 0x5b : 0x2c);
      w.bytes(src.subarray(start, ends[upto]));
      this.count += upto - k + 1;
      k = upto + 1;
      if (k <= last) this.close();
    }
  }

  /** Ends the current array message and starts a new one. */
  private close(): void {
    const w = this.w;
    w.byte(0x5d);
    this.done.push(w.buf.slice(0, w.len));
    this.counts.push(this.count);
    w.len = 0;
    this.count = 0;
  }

  /** A record encoded elsewhere (the object path): its JSON text. */
  addJson(json: string): void {
    this.begin();
    this.w.utf8(json);
    this.commit();
  }

  /**
   * The messages, copied out (the writer is reused); `counts` then holds the records of
   * each. A message is a JSON array, or one record object for a single-read message.
   */
  finish(): Uint8Array[] {
    const w = this.w;
    if (this.count === 0) return this.done;
    if (this.single && this.count === 1 && this.done.length === 0) {
      this.counts.push(1);
      return [w.buf.slice(1, w.len)];
    }
    w.byte(0x5d);
    this.done.push(w.buf.slice(0, w.len));
    this.counts.push(this.count);
    this.count = 0;
    return this.done;
  }
}

/** Header naming the records in a records message that is an array, so a consumer can count without parsing. */
export const RECORDS_HEADER = 'Platesieve-Records';
