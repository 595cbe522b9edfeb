/**
 * Runs a batch of reads messages through the service's processor twice, on the fast path
 * (the core's msgpack scanner and record writer) and on the object path (msgpackr or
 * JSON.parse, JSON.stringify), and holds the two to the same outcome: the same rejects,
 * hit reads and byte-identical records. Also checks what must hold on either path: every
 * reject has a code and a reason, and every read of a message is accounted for once.
 */
import { inspect, isDeepStrictEqual } from 'node:util';
import { createHitMatcherFromSnapshot, createMatcher } from '../../matcher/matcher.js';
import { processTask, taskOf, type MessageOutcome, type ProcessorSettings, type TaskResult } from '../../matcher/service/processor.js';
import type { HotlistEntry } from '../../matcher/types.js';
import type { HitMatcher } from '../../matcher/hits.js';
import { FuzzFailure, type CaseResult, type FuzzCase } from '../types.js';

const ENTRIES: HotlistEntry[] = [
  { id: 'e1', plate: 'ABC123', state: 'CO', list: 'STOLEN_VEHICLE' },
  { id: 'e2', plate: '7XYZ88', list: 'WANTED' },
  { id: 'e3', pattern: 'Q?Q*', case: 'C-1', enteredBy: 'tester', purpose: 'HOMICIDE', expires: '2999-01-01', list: 'BOLO' },
];

const RETENTION = {
  default: { policy: 'default-30d', nonhitDays: 30, hitDays: 365, basis: 'State policy "4.2" \\ C.R.S. 24-72-113' },
  agencies: { CO0010000: { policy: 'denver-21d', nonhitDays: 21, hitDays: 730, basis: 'Denver PD ALPR policy' } },
};

/** The service's limits (service.ts: 8 MiB messages, 1 MiB payloads less room for headers). */
const SETTINGS: ProcessorSettings = { maxMessageBytes: 8 << 20, maxOutputBytes: (1 << 20) - 16 * 1024, retention: RETENTION };

let matcher: HitMatcher | undefined;

/** The fuzz hotlist's matcher (made once: instantiating a core per case would dominate). */
export function hitMatcher(): HitMatcher {
  matcher ??= createHitMatcherFromSnapshot(createMatcher({ entries: ENTRIES }).snapshot());
  return matcher;
}

/** The messages of a case: `data` cut at `parts`. */
export function messagesOf(c: FuzzCase): Uint8Array[] {
  const cuts = [0, ...(c.parts ?? []), c.data.length];
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) out.push(c.data.subarray(cuts[i], cuts[i + 1]));
  return out;
}

/** Messages joined into one case (what the generators return). */
export function caseOf(messages: readonly Uint8Array[], opt: number): FuzzCase {
  let n = 0;
  for (const m of messages) n += m.length;
  const data = new Uint8Array(n);
  const parts: number[] = [];
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    if (i > 0) parts.push(at);
    data.set(messages[i], at);
    at += messages[i].length;
  }
  return { data, parts, opt };
}

const utf8 = new TextDecoder();
const text = (chunks: readonly Uint8Array[]): string[] => chunks.map((c) => utf8.decode(c));

function comparable(r: TaskResult): unknown {
  return {
    reads: r.reads,
    nonhit: r.nonhit?.map((g) => ({ ...g, data: text(g.data) })),
    outcomes: r.outcomes.map((o) => ({ ...o, nonhit: o.nonhit.map((g) => ({ ...g, data: text(g.data) })) })),
  };
}

/**
 * A copy with dates as text: two Invalid Dates (a timestamp extension msgpackr cannot make a
 * date of) are the same outcome, yet never deep-equal.
 */
function datesAsText(v: unknown): unknown {
  if (v instanceof Date) return `Date(${v.getTime()})`;
  if (Array.isArray(v)) return v.map(datesAsText);
  // Pairs rather than an object: a key `__proto__` must stay a key.
  if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v)) return Object.entries(v).map(([k, x]) => [k, datesAsText(x)]);
  return v;
}

/** The first place two values differ, for the failure message. */
function firstDifference(a: unknown, b: unknown, path = ''): string {
  if (isDeepStrictEqual(datesAsText(a), datesAsText(b))) return '';
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d !== '') return d;
    }
  }
  const show = (v: unknown): string => inspect(v, { depth: 3, breakLength: Infinity, maxStringLength: 200 }).slice(0, 300);
  return `${path || '(top)'}: fast ${show(a)} / object ${show(b)}`;
}

function checkOutcome(o: MessageOutcome, m: number, path: string): void {
  const where = `${path} message ${m}`;
  for (const r of o.rejects) {
    if (typeof r.code !== 'string' || !/^[A-Z][A-Z_]*$/.test(r.code)) throw new FuzzFailure(`${where}: reject without a code: ${JSON.stringify(r)}`);
    if (typeof r.reason !== 'string' || r.reason.trim() === '') throw new FuzzFailure(`${where}: reject ${r.code} without a reason`);
    if (r.index !== null && !(Number.isInteger(r.index) && r.index >= 0 && r.index < o.reads)) {
      throw new FuzzFailure(`${where}: reject ${r.code} at index ${r.index} of ${o.reads} reads`);
    }
  }
  // finalize.ts writes a hit read's record and alerts with JSON.stringify on the main thread:
  // a value it cannot encode (a BigInt, a cycle) would throw there, so it counts as a crash.
  for (const h of o.hitReads) JSON.stringify(h.read);
  const whole = o.rejects.some((r) => r.index === null);
  if (whole) {
    if (o.rejects.length !== 1 || o.hitReads.length > 0 || o.nonhitCount > 0) throw new FuzzFailure(`${where}: rejected whole, yet has other outcomes`);
    return;
  }
  const accounted = o.nonhitCount + o.hitReads.length + o.rejects.length;
  if (accounted !== o.reads) {
    throw new FuzzFailure(`${where}: ${o.reads} reads but ${o.nonhitCount} records + ${o.hitReads.length} hits + ${o.rejects.length} rejects`);
  }
}

function check(r: TaskResult, n: number, path: string): void {
  if (r.outcomes.length !== n) throw new FuzzFailure(`${path}: ${r.outcomes.length} outcomes for ${n} messages`);
  r.outcomes.forEach((o, m) => checkOutcome(o, m, path));
  if (r.nonhit !== undefined) {
    const records = r.nonhit.reduce((a, g) => a + g.counts.reduce((x, y) => x + y, 0), 0);
    const counted = r.outcomes.reduce((a, o) => a + o.nonhitCount, 0);
    if (records !== counted) throw new FuzzFailure(`${path}: ${records} coalesced records for ${counted} non-hit reads`);
  }
}

/** Counters of the report: how much of the input the fast path took. */
export interface ServiceCounters {
  messages: number;
  reads: number;
  fastReads: number;
}

/** Keys the core writes into ids as they are, and ones it must leave to the host (a quote). */
const KEYS = ['ALPR_READS.41', 'inst.7', 'a"b\\c'];

/**
 * Runs one case's messages through both paths. `opt` bit 0: coalesce records; bit 1: a
 * message key that needs escaping in JSON.
 */
export function runBothPaths(c: FuzzCase, counters: ServiceCounters): CaseResult {
  const messages = messagesOf(c);
  const opt = c.opt ?? 0;
  const keys = messages.map((_, i) => ((opt & 2) !== 0 && i === 0 ? KEYS[2] : `${KEYS[i % 2]}${i}`));
  const settings: ProcessorSettings = { ...SETTINGS, coalesceRecords: (opt & 1) !== 0 };
  const m = hitMatcher();
  const fast = processTask(taskOf(messages, keys, 1_736_000_000_000), m, settings);
  const object = processTask(taskOf(messages, keys, 1_736_000_000_000), m, { ...settings, objectPath: true });
  check(fast, messages.length, 'fast path');
  check(object, messages.length, 'object path');
  const a = comparable(fast);
  const b = comparable(object);
  if (!isDeepStrictEqual(a, b) && !isDeepStrictEqual(datesAsText(a), datesAsText(b))) throw new FuzzFailure(`fast and object paths disagree at ${firstDifference(a, b)}`);
  counters.messages += messages.length;
  counters.reads += fast.reads;
  counters.fastReads += fast.fastReads ?? 0;
  return { rejected: fast.outcomes.some((o) => o.rejects.length > 0) };
}

/** WebAssembly memory of the fuzz matcher (the fast path's scratch regions live there). */
export function coreBytes(): number {
  return matcher?.core.memory.buffer.byteLength ?? 0;
}
