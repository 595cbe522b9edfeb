// The service's fast path for msgpack reads: a batch of messages is copied into linear
// memory once; scanTask finds every read and the fields matching needs, packQueries turns
// them into query records for matchBatch, and writeRecords (records.ts) writes the JSON
// records of the reads that hit nothing straight from their bytes. The host's object path
// (msgpackr, then JSON.stringify) is the reference the tests hold this to.
//
// A read this code is not sure to treat exactly as msgpackr + JSON.stringify would (non-ASCII
// or binary or extension values, duplicate, non-string, `__proto__` or array-index keys such
// as "3" (a JavaScript object lists those first), a `ts` that is not a number,
// `candidates`, an unusual state, ...) is left to the host's object path, and so is a read
// that breaks an input bound (docs/wire-format.md "Input bounds": an agency or cameraId too
// long or with characters a subject must not hold, a `ts` outside the window the host passes
// per batch, values nested too deep, ...): the host rejects it with its code. Writing the
// records is records.ts; walking msgpack values, skip.ts; reading them, msgpack.ts.

import { be16, be32, isNumber, numberAt, strHead, strLen } from './msgpack';
import { beginItem, beginMessage, checkKey, isDeep, isUnsupported, MAX_KEYS, sawExtension, skip } from './skip';
import { QUERY_LEN, QUERY_RECORD, QUERY_STATE, RAW_PLATE_CAPACITY } from './layout';

/** Bytes of a message record: +0 i32 status, +4 u32 first item, +8 u32 items, +12 u32 single. */
export const MSG_RECORD: u32 = 16;
/**
 * Bytes of an item record: +0 u32 start, +4 u32 end, +8 u32 flags, +12 u32 plate start,
 * +16 u32 agency start, +20 u16 plate length, +22 u16 agency length, +24 f64 ts, +32 u16
 * state letter pair, +34 u16 position in its message, +36 u32 message (the I_* offsets;
 * matcher/service/core-reads.ts reads the same layout).
 */
export const ITEM_RECORD: u32 = 40;
export const I_START = 0;
export const I_END = 4;
export const I_FLAGS = 8;
export const I_PLATE = 12;
export const I_AGENCY = 16;
export const I_PLATE_LEN = 20;
export const I_AGENCY_LEN = 22;
export const I_TS = 24;
export const I_STATE = 32; // u16: 0 none, 1 + 26 * a + b for a two-letter state
export const I_INDEX = 34; // u16: position of the read in its message
export const I_MSG = 36; // u32: its message
/** Entries of packQueries' state table: u16 codes by I_STATE letter pair (0 none, 1 + 26 * a + b). */
export const STATE_PAIRS: u32 = 1 + 26 * 26;

/** The read is taken by this fast path. */
export const F_FAST: u32 = 1;
/** The read has no `ts` (its record gets the receive time). */
export const F_TS_MISSING: u32 = 2;
/** The read has no `id` (its record gets `<message key>-<index>`). */
export const F_ID_MISSING: u32 = 8;
/** The read has an `agency` string. */
export const F_AGENCY: u32 = 4;
/** The item nests deeper than skip.ts MAX_NESTING: the host rejects it (TOO_DEEP) without decoding it. */
export const F_DEEP: u32 = 16;

/** Message status: scanned. */
export const M_OK: i32 = 0;
/** Not well-formed msgpack (or not ending where the message does): the host decides. */
export const M_MALFORMED: i32 = -1;
/** Not a map or an array at the top: the host decides. */
export const M_OTHER: i32 = -2;

/** Longest agency (it names the alert subject) and cameraId, in bytes (bounds.ts has the same). */
const MAX_AGENCY_BYTES: u32 = 64;
const MAX_CAMERA_ID_BYTES: u32 = 128;

// The accepted `ts` window of the batch being scanned (epoch ms, both ends included).
let tsMin: f64 = 0;
let tsMax: f64 = 0;

/** The n bytes at s are printable ASCII (no control character, no DEL). */
function printable(s: usize, n: u32): bool {
  for (let i: u32 = 0; i < n; i++) {
    const c = load<u8>(s + i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// Field names by length and bytes.
const FIELD_OTHER = 0;
const FIELD_ID = 1;
const FIELD_PLATE = 2;
const FIELD_STATE = 3;
const FIELD_TS = 4;
const FIELD_AGENCY = 5;
const FIELD_CONFIDENCE = 6;
const FIELD_CANDIDATES = 7;
const FIELD_RESERVED = 8;
const FIELD_CAMERA = 9;

function fieldOf(s: usize, n: u32): i32 {
  const c = <u32>load<u8>(s);
  switch (n) {
    case 2: {
      const w = <u32>load<u16>(s);
      if (w == 0x6469) return FIELD_ID; // "id"
      if (w == 0x7374) return FIELD_TS; // "ts"
      return FIELD_OTHER;
    }
    case 3: return c == 0x68 && load<u8>(s + 1) == 0x69 && load<u8>(s + 2) == 0x74 ? FIELD_RESERVED : FIELD_OTHER; // hit
    case 5: {
      const w = load<u32>(s + 1);
      if (c == 0x70 && w == 0x6574616c) return FIELD_PLATE; // p-late
      if (c == 0x73 && w == 0x65746174) return FIELD_STATE; // s-tate
      return FIELD_OTHER;
    }
    case 6: return c == 0x61 && load<u32>(s + 1) == 0x636e6567 && load<u8>(s + 5) == 0x79 ? FIELD_AGENCY : FIELD_OTHER; // a-genc-y
    case 8: {
      const w = load<u64>(s);
      if (w == 0x7364497472656c61) return FIELD_RESERVED; // alertIds
      if (w == 0x64496172656d6163) return FIELD_CAMERA; // cameraId
      return FIELD_OTHER;
    }
    case 9: return load<u64>(s) == 0x6f69746e65746572 && load<u8>(s + 8) == 0x6e ? FIELD_RESERVED : FIELD_OTHER; // retention
    case 10: {
      const w = load<u64>(s);
      const t = <u32>load<u16>(s + 8);
      if (w == 0x6e656469666e6f63 && t == 0x6563) return FIELD_CONFIDENCE; // confidence
      if (w == 0x74616469646e6163 && t == 0x7365) return FIELD_CANDIDATES; // candidates
      return FIELD_OTHER;
    }
    default: return FIELD_OTHER;
  }
}

@inline function upper(c: u32): u32 {
  return c >= 0x61 && c <= 0x7a ? c - 0x20 : c;
}

/**
 * Scans the item at p (a read when it is a map) into the item record at `rec`; returns its
 * end, 0 when malformed.
 */
function scanRead(p: usize, end: usize, depth: i32, rec: usize): usize {
  beginItem(depth);
  const start = p;
  const b = <u32>load<u8>(p);
  let n: u32;
  if (b >= 0x80 && b <= 0x8f) {
    n = b & 0x0f;
    p += 1;
  } else if (b == 0xde && p + 2 < end) {
    n = be16(p + 1);
    p += 3;
  } else {
    const e = skip(p, end, depth);
    store<u32>(rec + I_START, <u32>start);
    store<u32>(rec + I_END, <u32>e);
    store<u32>(rec + I_FLAGS, isDeep() ? F_DEEP : 0);
    return e;
  }
  let slow = n > <u32>MAX_KEYS;
  let plate: usize = 0;
  let plateLen: u32 = 0;
  let hasPlate = false;
  let hasId = false;
  let agency: usize = 0;
  let agencyLen: u32 = 0;
  let hasAgency = false;
  let state: u32 = 0;
  let ts: f64 = 0;
  let hasTs = false;
  for (let k: u32 = 0; k < n; k++) {
    if (p >= end) return 0;
    const len = strLen(p);
    const v = checkKey(p, end, depth, <i32>k);
    if (v == 0) return 0;
    const next = skip(v, end, depth + 1);
    if (next == 0) return 0;
    if (!slow && !isUnsupported() && len >= 0) {
      const field = fieldOf(v - <usize>len, <u32>len);
      const vb = <u32>load<u8>(v);
      switch (field) {
        case FIELD_PLATE: {
          const pl = strLen(v);
          if (pl < 0 || <u32>pl > RAW_PLATE_CAPACITY) slow = true;
          else {
            plate = v + strHead(vb);
            plateLen = <u32>pl;
            hasPlate = true;
          }
          break;
        }
        case FIELD_STATE: {
          const sl = strLen(v);
          if (sl == 0) state = 0;
          else if (sl == 2) {
            const a = upper(load<u8>(v + 1));
            const c = upper(load<u8>(v + 2));
            if (a >= 0x41 && a <= 0x5a && c >= 0x41 && c <= 0x5a) state = 1 + 26 * (a - 0x41) + (c - 0x41);
            else slow = true;
          } else slow = true;
          break;
        }
        case FIELD_AGENCY: {
          // It names the alert subject: short, printable ASCII (else the host rejects it).
          const al = strLen(v);
          if (al < 0 || <u32>al > MAX_AGENCY_BYTES || !printable(v + strHead(vb), <u32>al)) slow = true;
          else {
            agency = v + strHead(vb);
            agencyLen = <u32>al;
            hasAgency = true;
          }
          break;
        }
        case FIELD_ID:
          if (strLen(v) <= 0) slow = true;
          hasId = true;
          break;
        case FIELD_CAMERA: {
          const cl = strLen(v);
          if (cl < 0 || <u32>cl > MAX_CAMERA_ID_BYTES || !printable(v + strHead(vb), <u32>cl)) slow = true;
          break;
        }
        case FIELD_TS:
          if (!isNumber(vb)) slow = true;
          else {
            ts = numberAt(v);
            // Outside the window (NaN included): the host rejects it as BAD_TS.
            if (!(ts >= tsMin && ts <= tsMax)) slow = true;
            hasTs = true;
          }
          break;
        case FIELD_CONFIDENCE:
          if (!isNumber(vb)) slow = true;
          else {
            const c = numberAt(v);
            if (!(c >= 0 && c <= 1)) slow = true;
          }
          break;
        case FIELD_CANDIDATES:
        case FIELD_RESERVED:
          slow = true;
          break;
        default:
          break;
      }
    }
    p = next;
  }
  let flags: u32 = isDeep() ? F_DEEP : 0;
  if (!slow && !isUnsupported() && hasPlate) {
    flags = F_FAST | (hasTs ? 0 : F_TS_MISSING) | (hasAgency ? F_AGENCY : 0) | (hasId ? 0 : F_ID_MISSING);
  }
  store<u32>(rec + I_START, <u32>start);
  store<u32>(rec + I_END, <u32>p);
  store<u32>(rec + I_FLAGS, flags);
  store<u32>(rec + I_PLATE, <u32>plate);
  store<u16>(rec + I_PLATE_LEN, <u16>plateLen);
  store<u32>(rec + I_AGENCY, <u32>agency);
  store<u16>(rec + I_AGENCY_LEN, <u16>agencyLen);
  store<f64>(rec + I_TS, ts);
  store<u16>(rec + I_STATE, <u16>state);
  return p;
}

/**
 * Scans `n` messages of the buffer at `buf` (message i is [offsets[i], offsets[i + 1]))
 * into message records at `msgs` and item records at `items` (at most `cap`). A read whose
 * numeric `ts` is outside [minTs, maxTs] is left to the host. Returns the items written, or
 * -1 when `cap` is too small (the host grows the region and calls again).
 */
export function scanTask(buf: usize, offsets: usize, n: u32, msgs: usize, items: usize, cap: u32, minTs: f64, maxTs: f64): i32 {
  tsMin = minTs;
  tsMax = maxTs;
  let count: u32 = 0;
  for (let m: u32 = 0; m < n; m++) {
    const from = buf + load<u32>(offsets + (m << 2));
    const to = buf + load<u32>(offsets + ((m + 1) << 2));
    const mr = msgs + m * MSG_RECORD;
    store<u32>(mr + 4, count);
    store<u32>(mr + 8, 0);
    store<u32>(mr + 12, 0);
    if (from >= to) {
      store<i32>(mr, M_OTHER);
      continue;
    }
    const b = <u32>load<u8>(from);
    let k: u32;
    let p: usize;
    let single = false;
    if ((b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf) {
      single = true;
      k = 1;
      p = from;
    } else if (b >= 0x90 && b <= 0x9f) {
      k = b & 0x0f;
      p = from + 1;
    } else if (b == 0xdc && from + 2 < to) {
      k = be16(from + 1);
      p = from + 3;
    } else if (b == 0xdd && from + 4 < to) {
      k = be32(from + 1);
      p = from + 5;
    } else {
      store<i32>(mr, M_OTHER);
      continue;
    }
    if (<usize>k > to - p) {
      store<i32>(mr, M_MALFORMED);
      continue;
    }
    if (count + k > cap) return -1;
    let ok = true;
    beginMessage();
    for (let i: u32 = 0; i < k; i++) {
      const rec = items + (count + i) * ITEM_RECORD;
      const e = scanRead(p, to, single ? 0 : 1, rec);
      if (e == 0) {
        ok = false;
        break;
      }
      store<u16>(rec + I_INDEX, <u16>i);
      store<u32>(rec + I_MSG, m);
      p = e;
    }
    // A message with an extension anywhere is decoded whole by the host (skip.ts `extension`).
    if (!ok || p != to || sawExtension()) {
      store<i32>(mr, M_MALFORMED);
      continue;
    }
    store<i32>(mr, M_OK);
    store<u32>(mr + 8, k);
    store<u32>(mr + 12, single ? 1 : 0);
    count += k;
  }
  return <i32>count;
}

/**
 * Query records (match.ts layout) for `n` fast items listed by index at `list`: raw plate
 * bytes, length, and the state code from `states` (u16 by letter pair, 677 entries).
 */
export function packQueries(items: usize, list: usize, n: u32, states: usize, queries: usize): void {
  for (let i: u32 = 0; i < n; i++) {
    const rec = items + load<u32>(list + (i << 2)) * ITEM_RECORD;
    const q = queries + <usize>i * QUERY_RECORD;
    const plate = <usize>load<u32>(rec + I_PLATE);
    const len = <u32>load<u16>(rec + I_PLATE_LEN);
    memory.copy(q, plate, len);
    store<u8>(q + QUERY_LEN, <u8>len);
    store<u16>(q + QUERY_STATE, load<u16>(states + ((<usize>load<u16>(rec + I_STATE)) << 1)));
  }
}
