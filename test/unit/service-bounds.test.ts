/**
 * Input bounds (issue 9, matcher/service/bounds.ts): a read that breaks one is dead-lettered
 * on its own, with its code, on the fast path (the core's scanner) and the object path alike,
 * and never costs its neighbours, its batch or the connection.
 */
import { describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { createHitMatcherFromSnapshot, createMatcher } from '../../matcher/matcher.js';
import { processTask, taskOf, type ProcessorSettings, type TaskResult } from '../../matcher/service/processor.js';
import { TS_AHEAD_MS, TS_MIN_MS } from '../../matcher/service/bounds.js';
import { subjectsFor } from '../../matcher/service/subjects.js';

const hits = createHitMatcherFromSnapshot(createMatcher({ entries: [{ id: 'e1', plate: 'ABC123', state: 'CO', list: 'STOLEN_VEHICLE' }] }).snapshot());
const retention = { default: { policy: 'default-30d', nonhitDays: 30, hitDays: 365, basis: 'test' }, agencies: {} };
const RECEIVED = 1_736_200_000_000;
const TS_MAX = RECEIVED + TS_AHEAD_MS;
const packr = new Packr({ useRecords: false });
const enc = new TextEncoder();

function run(messages: readonly Uint8Array[], objectPath: boolean, extra: Partial<ProcessorSettings> = {}): TaskResult {
  const settings: ProcessorSettings = { maxMessageBytes: 8 << 20, maxOutputBytes: 1 << 20, retention, objectPath, ...extra };
  return processTask(taskOf(messages, messages.map((_, i) => `inst.${i}`), RECEIVED), hits, settings);
}

/** Rejects as `index:code`, and the ids of the records, per message; the same on both paths. */
function outcome(messages: readonly Uint8Array[]): { rejects: string[][]; ids: string[][] } {
  const results = [run(messages, false), run(messages, true)].map((r) => ({
    rejects: r.outcomes.map((o) => o.rejects.map((x) => `${String(x.index)}:${x.code}`)),
    ids: r.outcomes.map((o) => o.nonhit.flatMap((g) => g.data.flatMap((d) => {
      const v = JSON.parse(Buffer.from(d).toString('utf8')) as unknown;
      return (Array.isArray(v) ? v : [v]).map((x) => (x as { id: string }).id);
    }))),
  }));
  expect(results[0]).toEqual(results[1]);
  return results[0];
}

const ok = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ id, plate: 'NOHIT1', ts: 1_736_143_202_176, ...extra });

/** msgpack bytes of `depth` nested arrays around 1 (msgpackr cannot write one 10 000 deep). */
const deepBytes = (depth: number): Buffer => Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0x01])]);
/** A msgpack array of three reads, the middle one with field `x` = `value` (raw msgpack). */
function middle(value: Buffer): Uint8Array {
  const read = Buffer.concat([Buffer.from([0x83, 0xa2]), Buffer.from('id'), Buffer.from([0xa1, 0x62, 0xa5]), Buffer.from('plate'), Buffer.from([0xa6]), Buffer.from('NOHIT1'), Buffer.from([0xa1, 0x78]), value]);
  return Buffer.concat([Buffer.from([0x93]), packr.pack(ok('a')), read, packr.pack(ok('c'))]);
}
/** `depth` JSON arrays around 1. */
const deepJson = (depth: number): string => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

describe('input bounds', () => {
  it('dead-letters a read whose agency or cameraId could break a subject or header, and keeps the others', () => {
    const reads = [
      ok('a', { agency: 'CO0010000' }),
      ok('long', { agency: 'A'.repeat(5000) }),
      ok('ctl', { agency: 'CO\r\n1' }),
      ok('utf8', { agency: 'Polizei München' }),
      ok('num', { agency: 7 }),
      ok('max', { agency: 'A'.repeat(64), cameraId: 'C'.repeat(128) }),
      ok('cam', { cameraId: 'C'.repeat(129) }),
      ok('camctl', { cameraId: 'CAM\n1' }),
      ok('z', { agency: 'CO 001.*>' }),
    ];
    for (const bytes of [packr.pack(reads), enc.encode(JSON.stringify(reads))]) {
      const got = outcome([bytes]);
      expect(got.rejects).toEqual([['1:BAD_FIELD', '2:BAD_FIELD', '3:BAD_FIELD', '4:BAD_FIELD', '6:BAD_FIELD', '7:BAD_FIELD']]);
      expect(got.ids).toEqual([['a', 'max', 'z']]);
    }
    const r = run([packr.pack(reads)], false);
    expect(r.outcomes[0].rejects[0].reason).toBe('agency must be a string of at most 64 printable ASCII characters (it names the alert subject)');
    // What is accepted makes a short subject of token characters only.
    const subjects = subjectsFor('alpr');
    expect(subjects.alerts('A'.repeat(64))).toBe(`alpr.alerts.${'A'.repeat(64)}`);
    expect(subjects.alerts('CO 001.*>')).toBe('alpr.alerts.CO_001___');
    expect(subjects.records('nonhit', 'a\u0000b\u007fc')).toBe('alpr.records.nonhit.a_b_c');
  });

  it('rejects only the read nested too deep, JSON or msgpack, never its batch', () => {
    // JSON: JSON.parse takes any depth; JSON.stringify of the record would throw.
    const json = enc.encode(`[${JSON.stringify(ok('a'))},{"id":"deep","plate":"NOHIT1","x":${deepJson(10_000)}},${JSON.stringify(ok('c'))}]`);
    const after = packr.pack(ok('next'));
    expect(outcome([json, after])).toEqual({ rejects: [['1:TOO_DEEP'], []], ids: [['a', 'c'], ['next']] });
    // msgpack: msgpackr would overflow its stack; the core skips the value without recursing.
    expect(outcome([middle(deepBytes(10_000)), after])).toEqual({ rejects: [['1:TOO_DEEP'], []], ids: [['a', 'c'], ['next']] });
    // A deep item that is not even a read, and a deep single-read message.
    const bare = Buffer.concat([Buffer.from([0x92]), packr.pack(ok('a')), deepBytes(50_000)]);
    expect(outcome([bare])).toEqual({ rejects: [['1:TOO_DEEP']], ids: [['a']] });
    expect(outcome([enc.encode(`{"plate":"NOHIT1","x":${deepJson(20)}}`)]).rejects).toEqual([['0:TOO_DEEP']]);
    // 16 levels below the read are fine, 17 are not (the field's array is level 1).
    expect(outcome([middle(deepBytes(16))]).rejects).toEqual([[]]);
    expect(outcome([middle(deepBytes(17))]).rejects).toEqual([['1:TOO_DEEP']]);
    expect(outcome([enc.encode(`[{"plate":"NOHIT1","x":${deepJson(16)}},{"plate":"NOHIT1","x":${deepJson(17)}}]`)]).rejects).toEqual([['1:TOO_DEEP']]);
    // Malformed as well as deep: rejected whole, by what is wrong with it (msgpackr would only
    // run out of stack, at a depth that depends on the stack left).
    const cut = middle(deepBytes(10_000));
    expect(outcome([cut.subarray(0, cut.length - 40)]).rejects).toEqual([['null:TRUNCATED']]);
    expect(outcome([Buffer.concat([cut, Buffer.from([0xc1])])]).rejects).toEqual([['null:BAD_MSGPACK']]);
  });

  it('rejects a read with a pass-through value too large (strings, arrays, objects), and keeps the others', () => {
    const reads = [
      ok('a', { note: 's'.repeat(4096), list: new Array(1024).fill(1) }),
      ok('str', { note: 's'.repeat(4097) }),
      ok('utf8', { note: 'é'.repeat(2049) }),
      ok('arr', { list: new Array(1025).fill(1) }),
      ok('obj', { o: Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`k${i}`, i])) }),
      ok('key', { ['k'.repeat(4097)]: 1 }),
      ok('z', { note: 'é'.repeat(2048) }),
    ];
    for (const bytes of [packr.pack(reads), enc.encode(JSON.stringify(reads))]) {
      expect(outcome([bytes])).toEqual({ rejects: [['1:BAD_FIELD', '2:BAD_FIELD', '3:BAD_FIELD', '4:BAD_FIELD', '5:BAD_FIELD']], ids: [['a', 'z']] });
    }
    expect(run([packr.pack(reads)], false).outcomes[0].rejects[0].reason).toBe('note holds a string of 4097 bytes (at most 4096)');
  });

  it('rejects only the read msgpackr cannot decode (an unknown extension), on both paths', () => {
    const ext = Buffer.from([0xd4, 0x01, 0x00]); // fixext 1 of type 1: msgpackr knows no such extension
    expect(outcome([middle(ext)])).toEqual({ rejects: [['1:BAD_MSGPACK']], ids: [['a', 'c']] });
  });

  it('dead-letters a ts outside 2000-01-01T00:00:00Z .. receive time + 1 day (numbers and ISO strings)', () => {
    const bad: unknown[] = [-1, 0, TS_MIN_MS - 1, TS_MAX + 1, 1e20, -1e20, 2 ** 63, -(2 ** 63), 2n ** 63n, -(2n ** 63n), 2n ** 64n - 1n, '1999-12-31T23:59:59.999Z', '2999-01-01T00:00:00Z', '+275760-09-13T00:00:00Z'];
    const good: unknown[] = [TS_MIN_MS, TS_MAX, 1_736_143_202_176, 1.5e12 + 0.5, '2000-01-01T00:00:00Z', '2025-01-06T05:20:02Z', new Date(TS_MAX).toISOString()];
    const reads = [...bad, ...good].map((ts, i) => ({ id: `r${i}`, plate: 'NOHIT1', ts }));
    const msgpack = packr.pack(reads);
    const got = outcome([msgpack]);
    expect(got.rejects).toEqual([bad.map((_, i) => `${i}:BAD_TS`)]);
    expect(got.ids).toEqual([good.map((_, i) => `r${bad.length + i}`)]);
    const jsonReads = reads.filter((r) => typeof r.ts !== 'bigint');
    const fromJson = outcome([enc.encode(JSON.stringify(jsonReads))]);
    expect(fromJson.rejects[0].every((x) => x.endsWith(':BAD_TS'))).toBe(true);
    expect(fromJson.ids).toEqual(got.ids);
    const r = run([msgpack], false);
    expect(r.outcomes[0].rejects[0].reason).toBe(`ts -1 is outside the accepted window, 2000-01-01T00:00:00.000Z to ${new Date(TS_MAX).toISOString()} (receive time + 1 day)`);
    // An accepted read expires from its own time.
    const records = JSON.parse(Buffer.from(r.outcomes[0].nonhit[0].data[0]).toString('utf8')) as Array<{ ts: number; retention: { expiresAt: number } }>;
    expect(records[0]).toMatchObject({ ts: TS_MIN_MS, retention: { expiresAt: TS_MIN_MS + 30 * 86_400_000 } });
  });

  it('decodes JSON that starts with a UTF-8 byte order mark', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const one = Buffer.concat([bom, Buffer.from(JSON.stringify(ok('one')))]);
    const many = Buffer.concat([bom, Buffer.from(` \n${JSON.stringify([ok('a'), ok('b')])}`)]);
    expect(outcome([one, many])).toEqual({ rejects: [[], []], ids: [['one'], ['a', 'b']] });
  });

  it('keeps a dead letter reason on one line (it travels in a header)', () => {
    const r = run([enc.encode('{"plate":\r\n}')], false);
    expect(r.outcomes[0].rejects).toHaveLength(1);
    expect(r.outcomes[0].rejects[0].code).toBe('BAD_JSON');
    expect(r.outcomes[0].rejects[0].reason).not.toMatch(/[\r\n]/);
    // A reason that names a field: any key may be one.
    const named = outcome([packr.pack([ok('a', { 'x\r\ny': 's'.repeat(5000) })])]);
    expect(named.rejects).toEqual([['0:BAD_FIELD']]);
    expect(run([packr.pack([ok('a', { 'x\r\ny': 's'.repeat(5000) })])], false).outcomes[0].rejects[0].reason).toBe('x y holds a string of 5000 bytes (at most 4096)');
  });

  it('gives reads to the right message in a batch of more than 65 536 messages', () => {
    const n = 65_537;
    const miss = packr.pack({ plate: 'NOHIT1' });
    const messages = Array.from({ length: n }, (_, i) => (i === n - 1 ? packr.pack({ id: 'last', plate: 'ABC123', state: 'CO' }) : miss));
    for (const objectPath of [false, true]) {
      const r = run(messages, objectPath, { coalesceRecords: true });
      expect(r.outcomes[n - 1].hitReads.map((h) => h.read.id)).toEqual(['last']);
      expect(r.outcomes[0].hitReads).toEqual([]);
      expect(r.outcomes.every((o, i) => o.nonhitCount === (i === n - 1 ? 0 : 1))).toBe(true);
    }
  });
});
