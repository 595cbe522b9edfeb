/**
 * The service's fast path (core-wasm reads.ts via core-reads.ts) against the object path it
 * replaces (msgpackr decode, JSON.stringify of the record): on random reads, including
 * every kind of field the scanner hands back to msgpackr, both give the same rejects, the
 * same hit reads and byte-identical records.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { createMatcher, createHitMatcherFromSnapshot } from '../../matcher/matcher.js';
import { processTask, taskOf, type ProcessorSettings, type Task, type TaskResult } from '../../matcher/service/processor.js';
import { TS_AHEAD_MS, TS_MIN_MS } from '../../matcher/service/bounds.js';
import type { HotlistEntry, ReadRecord } from '../../matcher/types.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);

const entries: HotlistEntry[] = [
  { id: 'e1', plate: 'ABC123', state: 'CO', list: 'STOLEN_VEHICLE' },
  { id: 'e2', plate: '7XYZ88', list: 'WANTED' },
  { id: 'e3', pattern: 'Q?Q*', case: 'C-1', enteredBy: 'tester', purpose: 'HOMICIDE', expires: '2999-01-01', list: 'BOLO', vehicle: { colour: 'RED' } },
];
const hits = createHitMatcherFromSnapshot(createMatcher({ entries }).snapshot());

const retention = {
  default: { policy: 'default-30d', nonhitDays: 30, hitDays: 365, basis: 'State policy "4.2" \\ C.R.S. 24-72-113' },
  agencies: { CO0010000: { policy: 'denver-21d', nonhitDays: 21, hitDays: 730, basis: 'Denver PD ALPR policy' } },
};

const packers = [new Packr({ useRecords: false }), new Packr({ useRecords: false, useFloat32: 1 })];

function settings(extra: Partial<ProcessorSettings> = {}): ProcessorSettings {
  return { maxMessageBytes: 1 << 20, maxOutputBytes: 1 << 20, retention, ...extra };
}

/** Receive time of the tasks: the reads' `ts` (1 736 143 202 176 and so on) fall inside its window. */
const RECEIVED = 1_736_200_000_000;
const TS_MAX = RECEIVED + TS_AHEAD_MS;

function task(messages: readonly Uint8Array[]): Task {
  return taskOf(messages, messages.map((_, i) => `inst.${i + 1}`), RECEIVED);
}

/** Runs the same messages through both paths (each on its own copy: reads are changed in place). */
function both(messages: readonly Uint8Array[], extra: Partial<ProcessorSettings> = {}): [TaskResult, TaskResult] {
  return [
    processTask(task(messages), hits, settings(extra)),
    processTask(task(messages), hits, settings({ ...extra, objectPath: true })),
  ];
}

const text = (chunks: Uint8Array[]): string[] => chunks.map((c) => Buffer.from(c).toString('utf8'));

function comparable(r: TaskResult): unknown {
  return {
    reads: r.reads,
    nonhit: r.nonhit?.map((g) => ({ ...g, data: text(g.data) })),
    outcomes: r.outcomes.map((o) => ({ ...o, nonhit: o.nonhit.map((g) => ({ ...g, data: text(g.data) })) })),
  };
}

// ----------------------------------------------------------------------------- arbitraries
const asciiText = fc.string({ maxLength: 12 });
const anyText = fc.oneof(asciiText, fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom('', 'a"b\\c', '\u0000\u001f\u007f\n\t', 'Citroën', '😀'));
const plateArb = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('ABC123', 'abc-123', 'A8C123', '7XYZ88', 'QAQ', 'QQQ77', 'ZZZ999', 'NOHIT1') },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', 'AB@12', 'ÄBC123', '12345678901', 'A B.C-1·2') },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.constant(null), asciiText) },
);
const numberArb = fc.oneof(
  fc.integer({ min: -200, max: 200 }),
  fc.integer(),
  fc.double({ noNaN: false }),
  fc.constantFrom(0, -0, 0.5, 0.834, 1, 1.5, 2 ** 32, 2 ** 53 - 1, 1_736_143_202_176, -1_736_143_202_176, 1e21, Number.NaN, Infinity),
  fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }),
);
const scalarArb = fc.oneof(anyText, numberArb, fc.boolean(), fc.constant(null));
const valueArb = fc.oneof(
  { weight: 4, arbitrary: scalarArb },
  { weight: 1, arbitrary: fc.array(scalarArb, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(asciiText, scalarArb, { maxKeys: 3 }) },
);

function withoutId(r: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, ...rest } = r;
  return rest;
}

// OCR candidates (matched on the object path), now and then.
const candidatesArb = fc.oneof(
  fc.array(fc.record({ plate: plateArb, confidence: fc.double({ min: 0, max: 1, noNaN: true }) }, { requiredKeys: ['plate'] }), { maxLength: 3 }),
  fc.constant('not a list'),
);

/** Mostly the values of a well-formed read (the fast path), sometimes anything. */
function mostly<T>(good: fc.Arbitrary<T>, odd: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 12, arbitrary: good }, { weight: 1, arbitrary: odd });
}
const goodText = fc.oneof(asciiText, fc.constantFrom('', 'a"b\\c', '\u0000\u001f\u007f\n\t\b\f\r', 'CAM-0138'));
/** Decimals of up to 15 significant digits (confidences, coordinates): formatted in the core. */
const shortDecimal = fc.tuple(fc.integer({ min: -(10 ** 12), max: 10 ** 12 }), fc.integer({ min: 1, max: 14 })).map(([m, d]) => m / 10 ** d);
const goodNumber = fc.oneof(shortDecimal, fc.integer(), fc.integer({ min: -70_000, max: 70_000 }), fc.double({ noNaN: true }), fc.constantFrom(0, -0, 0.834, 2 ** 32, 2 ** 53 - 1, 1_736_143_202_176, 1e21, -1e-7, Number.NaN, Infinity));

// Input bounds (matcher/service/bounds.ts): each on both sides of its limit.
const goodTs = fc.oneof(fc.integer({ min: TS_MIN_MS, max: TS_MAX }), fc.constantFrom(1_736_143_202_176, 1.5e12 + 0.123, TS_MIN_MS, TS_MAX));
const oddTs = fc.oneof(
  numberArb,
  fc.constantFrom(-1, -5, 0, TS_MIN_MS - 1, TS_MAX + 1, TS_MAX + 0.5, 1e20, -1e20, 2 ** 63, -(2 ** 63), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n),
  fc.constantFrom('2025-01-06T05:20:02Z', '2000-01-01T00:00:00Z', '1999-12-31T23:59:59.999Z', '2999-01-01T00:00:00Z', 'yesterday'),
  fc.constant(null),
);
const goodAgency = fc.constantFrom('CO0010000', 'CO0560500', 'CO 001.*>', 'A'.repeat(64), '');
const oddAgency = fc.oneof(fc.integer(), anyText, fc.constantFrom('A'.repeat(65), 'A'.repeat(5000), 'CO\u0000', 'CO\n1', 'CO\u007f', 'Polizei München'));
const goodCamera = fc.oneof(asciiText, fc.constantFrom('', 'CAM-0138', 'C'.repeat(128)));
const oddCamera = fc.oneof(anyText, fc.integer(), fc.constantFrom('C'.repeat(129), 'é'.repeat(64), 'é'.repeat(65), 'CAM\r\n1', 'CAM\t1', '\u0000\u001f\u007f'));

/** `depth` arrays or objects, one inside the other, around a leaf. */
function nest(depth: number, objects: boolean): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = objects && i % 2 === 0 ? { k: v } : [v];
  return v;
}
const nestedArb = fc.tuple(fc.integer({ min: 14, max: 19 }), fc.boolean()).map(([d, o]) => nest(d, o));
const sizedArb = fc.constantFrom(
  's'.repeat(4096), 's'.repeat(4097), 'é'.repeat(2048), 'é'.repeat(2049), new Array(1024).fill(1), new Array(1025).fill(1),
  { ['k'.repeat(4096)]: 1 }, { ['k'.repeat(4097)]: 1 }, Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`k${i}`, i])),
);

// Keys a JavaScript object lists first, in ascending order (array indices: the canonical
// decimal text of 0 .. 2^32 - 2), and near misses that keep their place. msgpackr's object
// reorders the former, so a Map (which packs in its own order) puts them after other keys.
const indexKeyArb = fc.oneof(
  fc.constantFrom('0', '3', '7', '8', '10', '4294967294', '4294967295', '01', '00', '-1', '1.5', '1e3', ' 1'),
  fc.nat().map(String),
  fc.bigInt({ min: 0n, max: 2n ** 33n }).map(String),
);
const keyArb = fc.oneof({ weight: 3, arbitrary: asciiText }, { weight: 1, arbitrary: indexKeyArb });
/** An object in the order given (packed as a msgpack map in that order, decoded as an object). */
const orderedDictArb = <T>(value: fc.Arbitrary<T>): fc.Arbitrary<Map<string, T>> =>
  fc.array(fc.tuple(keyArb, value), { maxLength: 4 }).map((kv) => new Map(kv));
/** `r` as a Map with `key` at position `at` of its keys. */
function withKeyAt(r: Record<string, unknown>, key: string, value: unknown, at: number): Map<string, unknown> {
  const kv = Object.entries(r).filter(([k]) => k !== key);
  kv.splice(at % (kv.length + 1), 0, [key, value]);
  return new Map(kv);
}

const readArb = fc.record(
  {
    id: mostly(fc.constantFrom('R-1', 'a"b', 'x\\y'), fc.oneof(fc.constant(''), fc.integer(), fc.constant(null), anyText)),
    plate: plateArb,
    state: mostly(fc.constantFrom('CO', 'co', 'CA', ''), fc.oneof(fc.constant(null), fc.integer())),
    ts: mostly(goodTs, oddTs),
    cameraId: mostly(goodCamera, oddCamera),
    agency: mostly(goodAgency, oddAgency),
    confidence: mostly(fc.double({ min: 0, max: 1, noNaN: true }), fc.oneof(fc.constantFrom(1.5, -1), numberArb, asciiText)),
    vehicle: mostly(
      fc.record({ make: fc.constantFrom('FORD', 'TOYOTA'), colour: fc.constantFrom('RED', 'BLK', 'red') }, { requiredKeys: [] }),
      fc.oneof(fc.constant(null), fc.constant({ make: 'Citroën' })),
    ),
    lat: mostly(goodNumber, numberArb),
    heading: mostly(fc.integer({ min: 0, max: 359 }), numberArb),
    imageRef: mostly(goodText, anyText),
    extra: mostly(
      fc.oneof(goodText, goodNumber, fc.boolean(), fc.constant(null), fc.array(goodNumber, { maxLength: 3 }), fc.dictionary(asciiText, goodText, { maxKeys: 3 }), orderedDictArb(goodText)),
      fc.oneof(valueArb, nestedArb, sizedArb, fc.array(orderedDictArb(scalarArb), { maxLength: 2 })),
    ),
  },
  { requiredKeys: ['plate', 'id'] },
).chain((r) =>
  // A field the record itself sets (`hit`, `alertIds`, `retention`), now and then; a key too
  // long; an array-index key (or a near miss) anywhere among the read's own keys.
  fc.tuple(fc.nat(20), candidatesArb, indexKeyArb, goodText, fc.nat()).map(([n, candidates, key, value, at]): unknown =>
    n === 0 ? { ...r, hit: 'yes' } : n === 1 ? { ...r, retention: 7 } : n === 2 ? { ...r, candidates } : n <= 5 ? withoutId(r) : n === 6 ? { ...r, ['k'.repeat(4097)]: 1 } : n <= 8 ? withKeyAt(r, key, value, at) : r),
);

/** A msgpack array of reads with a value nested `depth` deep at `at` (a read's field, or an item of its own): msgpackr cannot write one 10 000 deep. */
function withDeep(reads: readonly unknown[], at: number, depth: number, inRead: boolean, p: number): Uint8Array {
  const deep = Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0x01])]);
  const item = inRead ? Buffer.concat([Buffer.from([0x82, 0xa5]), Buffer.from('plate'), Buffer.from([0xa6]), Buffer.from('NOHIT1'), Buffer.from([0xa1, 0x78]), deep]) : deep;
  const parts = reads.map((r) => Buffer.from(packers[p].pack(r)));
  parts.splice(Math.min(at, parts.length), 0, item);
  return Buffer.concat([Buffer.from([0xdc, 0, parts.length]), ...parts]);
}
const deepMessageArb = fc
  .tuple(fc.array(readArb, { maxLength: 3 }), fc.nat(3), fc.constantFrom(15, 16, 17, 40, 10_000), fc.boolean(), fc.nat(1))
  .map(([reads, at, depth, inRead, p]) => withDeep(reads, at, depth, inRead, p));

const packedArb = fc
  .tuple(fc.oneof(readArb, fc.array(fc.oneof({ weight: 9, arbitrary: readArb }, { weight: 1, arbitrary: scalarArb }), { maxLength: 6 })), fc.nat(1))
  .map(([value, p]) => packers[p].pack(value));
const messageArb = fc.oneof({ weight: 12, arbitrary: packedArb }, { weight: 1, arbitrary: deepMessageArb });

describe('service fast path', () => {
  it('gives the same rejects, hit reads and byte-identical records as the object path', () => {
    let scanned = 0;
    let items = 0;
    const codes = new Set<string>();
    fc.assert(
      fc.property(fc.array(messageArb, { minLength: 1, maxLength: 5 }), fc.boolean(), (messages, coalesce) => {
        const [fast, reference] = both(messages, { coalesceRecords: coalesce });
        items += fast.reads;
        scanned += fast.fastReads ?? 0;
        for (const o of fast.outcomes) for (const r of o.rejects) codes.add(r.code);
        expect(comparable(fast)).toEqual(comparable(reference));
      }),
      { numRuns: RUNS },
    );
    // The comparison means something only if the fast path took a good share of the reads,
    // and the generators reached past every input bound.
    expect(scanned / items).toBeGreaterThan(0.3);
    expect([...codes]).toEqual(expect.arrayContaining(['TOO_DEEP', 'BAD_TS', 'BAD_FIELD']));
  });

  it('takes plain reads on the fast path (scanned by the core, never a JavaScript object)', () => {
    const read = { id: 'R1', plate: 'NOHIT1', state: 'CO', ts: 1_736_143_202_176, cameraId: 'CAM-1', agency: 'CO0010000', confidence: 0.834, lat: 39.7, vehicle: { make: 'FORD' } };
    const { id: _id, ...noId } = read;
    const fast = (reads: unknown[]): number | undefined => processTask(task([packers[0].pack(reads)]), hits, settings()).fastReads;
    expect(fast([read, read, noId])).toBe(3);
    // Left to the object path: a non-ASCII string, candidates, a state of three letters.
    expect(fast([{ ...read, make: 'Citroën' }, { ...read, candidates: [] }, { ...read, state: 'COL' }])).toBe(0);
  });

  it('leaves reads with array-index keys (which a JavaScript object lists first) to msgpackr, at any depth', () => {
    const read = { id: 'R1', plate: 'NOHIT1', state: 'CO' };
    const keys = ['0', '3', '10', '4294967294', '01', '00', '4294967295', '-1', '1.5', ' 1', 'x'];
    const asRead = (k: string): Map<string, unknown> => withKeyAt(read, k, 'v', 3);
    const nested = (k: string): unknown => ({ ...read, extra: [new Map([['a', 1], [k, 2]])] });
    for (const make of [asRead, nested]) {
      const messages = keys.map((k) => packers[0].pack(make(k)));
      const [fast, reference] = both(messages);
      expect(comparable(fast)).toEqual(comparable(reference));
      // The first four are array indices: the object path; the rest keep their place.
      expect(fast.fastReads).toBe(keys.length - 4);
      expect(text(reference.outcomes[1].nonhit[0].data)[0]).toMatch(make === asRead ? /^\{"3":"v","id"/ : /\[\{"3":2,"a":1\}\]/);
    }
  });

  it('prints decimals as JavaScript does (shortest round trip), in the core or through the host', () => {
    const rnd = fc.sample(fc.oneof(shortDecimal, fc.double({ noNaN: true })), { numRuns: 20_000, seed: 7 });
    const values = [...rnd, 0.1, 0.2, 0.1 + 0.2, 1e-6, 1.5e-6, 9.99e-7, 123456789012345.6, 1e15 - 0.5, 0.834, 39.7392, -104.9903, 5e-324, Number.MAX_VALUE];
    const reads = [];
    for (let i = 0; i < values.length; i += 100) reads.push({ id: `r${i}`, plate: 'NOHIT1', extra: values.slice(i, i + 100), confidence: Math.abs(values[i]) <= 1 ? Math.abs(values[i]) : 0.5 });
    const [fast, reference] = both([packers[0].pack(reads), packers[1].pack(reads)]);
    expect(fast.fastReads).toBe(2 * reads.length);
    expect(comparable(fast)).toEqual(comparable(reference));
  });

  it('gives reads without id the id of their message key and position, escaped or not', () => {
    const msgs = [packers[0].pack([{ plate: 'NOHIT1' }, { plate: 'NOHIT2', id: 'x' }]), packers[0].pack({ plate: 'NOHIT3' })];
    for (const keys of [['ALPR_READS.41', 'ALPR_READS.42'], ['a"b\\c', 'plain']]) {
      const mk = (): Task => taskOf(msgs, keys, 1_736_000_000_000);
      const fast = processTask(mk(), hits, settings({ coalesceRecords: true }));
      const reference = processTask(mk(), hits, settings({ coalesceRecords: true, objectPath: true }));
      expect(comparable(fast)).toEqual(comparable(reference));
      expect(fast.fastReads).toBe(keys[0].includes('"') ? 2 : 3);
      const ids = fast.nonhit!.flatMap((g) => text(g.data).flatMap((t) => JSON.parse(t) as Array<{ id: string }>)).map((r) => r.id);
      expect(ids).toEqual([`${keys[0]}-0`, 'x', `${keys[1]}-0`]);
    }
  });

  it('writes the records of many retention policies in one batch, each in read order', () => {
    const agencies = Array.from({ length: 40 }, (_, i) => `CO${String(i).padStart(7, '0')}`);
    const many = {
      default: retention.default,
      agencies: Object.fromEntries(agencies.map((a, i) => [a, { policy: `p${i}`, nonhitDays: 1 + i, hitDays: 400, basis: `basis ${i}` }])),
    };
    const reads = Array.from({ length: 4000 }, (_, i) => ({ id: `r${i}`, plate: `NH${i}`, agency: agencies[(i * 7) % 41] ?? 'NONE', cameraId: 'C'.repeat(i % 50) }));
    const messages = [];
    for (let i = 0; i < reads.length; i += 500) messages.push(packers[0].pack(reads.slice(i, i + 500)));
    for (const coalesceRecords of [true, false]) {
      const fast = processTask(task(messages), hits, settings({ retention: many, coalesceRecords }));
      const reference = processTask(task(messages), hits, settings({ retention: many, coalesceRecords, objectPath: true }));
      expect(fast.fastReads).toBe(4000);
      expect(comparable(fast)).toEqual(comparable(reference));
    }
  });

  it('matches fast reads against the live overlay too, with its own state codes', () => {
    // The overlay's entries have a state the compiled hotlist has none of (WY): codes differ
    // between the two cores, so the fast path must map states for the overlay, not copy them.
    const overlay = { version: 1, snapshot: createMatcher({ entries: [{ id: 'live1', plate: 'OVR123', state: 'WY', list: 'AMBER' }, { id: 'live2', plate: 'ABC123', state: 'CO', list: 'BOLO' }] }).snapshot(), offset: 100 };
    const reads = [
      { id: 'a', plate: 'OVR123', state: 'WY' },
      { id: 'b', plate: 'OVR123', state: 'CO' },
      { id: 'c', plate: 'OVR123' },
      { id: 'd', plate: 'ABC123', state: 'co' },
      { id: 'e', plate: 'NOHIT1', state: 'WY' },
    ];
    const run = (objectPath: boolean): TaskResult => {
      const t = task([packers[0].pack(reads), ...reads.map((r) => packers[0].pack(r))]);
      t.overlay = overlay;
      return processTask(t, hits, settings({ objectPath, coalesceRecords: true }));
    };
    const fast = run(false);
    const reference = run(true);
    expect(fast.fastReads).toBe(10);
    expect(comparable(fast)).toEqual(comparable(reference));
    const hitIds = fast.outcomes[0].hitReads.map((h) => [h.read.id, h.hits.map((x) => x.entry).sort((p, q) => p - q)]);
    expect(hitIds).toEqual([['a', [100]], ['c', [100]], ['d', [0, 101]]]);
  });

  it('reads 64-bit integers as numbers (other languages write epoch ms as uint64)', () => {
    // {"plate":"NOHIT1","ts":uint64 1736143202176}, as msgpack-python or Go would write it.
    const bytes = Buffer.concat([
      Buffer.from([0x82, 0xa5]), Buffer.from('plate'), Buffer.from([0xa6]), Buffer.from('NOHIT1'),
      Buffer.from([0xa2]), Buffer.from('ts'), Buffer.from([0xcf, 0, 0, 0x01, 0x94, 0x3a, 0x4d, 0x3e, 0x80]),
    ]);
    for (const objectPath of [false, true]) {
      const r = processTask(task([bytes]), hits, settings({ objectPath }));
      expect(r.outcomes[0].rejects).toEqual([]);
      const record = JSON.parse(text(r.outcomes[0].nonhit[0].data)[0]) as ReadRecord;
      expect(record.ts).toBe(0x0194_3a4d_3e80);
      expect(record.retention.expiresAt).toBe(0x0194_3a4d_3e80 + 30 * 86_400_000);
    }
  });

  it('leaves duplicate keys to msgpackr (the last value wins)', () => {
    const bytes = Buffer.concat([
      Buffer.from([0x82, 0xa5]), Buffer.from('plate'), Buffer.from([0xa6]), Buffer.from('NOHIT1'),
      Buffer.from([0xa5]), Buffer.from('plate'), Buffer.from([0xa6]), Buffer.from('ABC123'),
    ]);
    const [fast, reference] = both([bytes]);
    expect(fast.fastReads).toBe(0);
    expect(comparable(fast)).toEqual(comparable(reference));
    expect(fast.outcomes[0].hitReads[0].read.plate).toBe('ABC123');
  });

  it('rejects a truncated message whole, as msgpackr does', () => {
    const whole = packers[0].pack([{ plate: 'NOHIT1' }, { plate: 'NOHIT2' }]);
    const [fast, reference] = both([whole.subarray(0, whole.length - 3), whole.subarray(0, 0)]);
    expect(fast.outcomes.map((o) => o.rejects.map((r) => r.code))).toEqual([['TRUNCATED'], ['EMPTY_MESSAGE']]);
    expect(comparable(fast)).toEqual(comparable(reference));
  });

  it('coalesces the records of single-read messages into one array per policy', () => {
    const messages = ['NOHIT1', 'NOHIT2', 'ABC123', 'NOHIT3'].map((plate, i) => packers[0].pack({ id: `r${i}`, plate, state: 'CO', agency: i === 3 ? 'CO0010000' : 'X' }));
    const r = processTask(task(messages), hits, settings({ coalesceRecords: true }));
    expect(r.outcomes.every((o) => o.nonhit.length === 0)).toBe(true);
    const groups = Object.fromEntries(r.nonhit!.map((g) => [g.policy, text(g.data).map((t) => JSON.parse(t) as ReadRecord)]));
    expect(groups['default-30d']).toEqual([[expect.objectContaining({ id: 'r0' }), expect.objectContaining({ id: 'r1' })]]);
    expect(groups['denver-21d']).toEqual([[expect.objectContaining<{ id: string; retention: unknown }>({ id: 'r3', retention: expect.objectContaining({ class: 'nonhit' }) })]]);
    expect(r.outcomes[2].hitReads.map((h) => h.read.id)).toEqual(['r2']);
    // Without coalescing, a single-read message's record is a single object.
    const single = processTask(task(messages.slice(0, 1)), hits, settings());
    expect(JSON.parse(text(single.outcomes[0].nonhit[0].data)[0])).toMatchObject({ id: 'r0', hit: false });
  });

  it('keeps working when a batch makes the core linear memory grow', () => {
    // A fresh matcher: its scratch regions start small, so the big batches below grow memory
    // while queries are packed and records written (views over the old memory die).
    const fresh = createHitMatcherFromSnapshot(createMatcher({ entries }).snapshot());
    const one = processTask(task([packers[0].pack({ id: 'a', plate: 'NOHIT1' })]), fresh, settings());
    expect(one.fastReads).toBe(1);
    for (const size of [5000, 20_000, 60_000]) {
      const reads = Array.from({ length: size }, (_, i) => ({ id: `r${i}`, plate: i % 1000 === 0 ? 'ABC123' : `NH${i}`, state: 'CO', ts: 1_736_000_000_000 + i }));
      const messages = [];
      for (let i = 0; i < size; i += 5000) messages.push(packers[0].pack(reads.slice(i, i + 5000)));
      const r = processTask(task(messages), fresh, settings({ coalesceRecords: true }));
      expect(r.fastReads).toBe(size);
      expect(r.nonhit!.reduce((a, g) => a + g.counts.reduce((x, y) => x + y, 0), 0) + r.outcomes.reduce((a, o) => a + o.hitReads.length, 0)).toBe(size);
    }
  });

  it('cuts records into messages no larger than maxOutputBytes, losing none', () => {
    const reads = Array.from({ length: 300 }, (_, i) => ({ id: `r${i}`, plate: `NH${i}`, cameraId: 'CAM-'.padEnd(40, 'x') }));
    for (const objectPath of [false, true]) {
      const r = processTask(task([packers[0].pack(reads)]), hits, settings({ maxOutputBytes: 4096, objectPath }));
      const chunks = text(r.outcomes[0].nonhit[0].data);
      expect(chunks.length).toBeGreaterThan(5);
      for (const c of chunks) expect(Buffer.byteLength(c)).toBeLessThanOrEqual(4096);
      expect(chunks.flatMap((c) => JSON.parse(c) as Array<{ id: string }>).map((x) => x.id)).toEqual(reads.map((x) => x.id));
    }
  });
});
