/** The console's pure helpers: the SSE framing, the plate diff and the CSV/NDJSON files. */
import { describe, expect, it } from 'vitest';
import { liveEvents } from '../../console/src/alert-types.js';
import { toCsv, toNdjson } from '../../console/src/export-file.js';
import { countdown } from '../../console/src/format.js';
import { patternDiff, plateDiff } from '../../console/src/plate-diff.js';
import { SseParser, type SseEvent } from '../../console/src/sse.js';

describe('SseParser', () => {
  it('splits events across chunks, skips comments, joins data lines', () => {
    const got: SseEvent[] = [];
    const p = new SseParser((e) => got.push(e));
    p.push(': ping\n\nevent: alert\nda');
    p.push('ta: {"a":1}\r');
    p.push('\n\r\ndata: x\ndata: y\n\n');
    expect(got).toEqual([{ event: 'alert', data: '{"a":1}' }, { event: 'message', data: 'x\ny' }]);
  });

  it('reads the feed contract', () => {
    expect(liveEvents('alert', JSON.stringify({ alert: { alertId: 'a1', plate: 'X' }, deadline: 5, windowKind: 'urgent', receivedAt: 4 }))).toMatchObject([{ kind: 'alert', deadline: 5, windowKind: 'urgent', receivedAt: 4 }]);
    expect(liveEvents('disposition', JSON.stringify([{ alertId: 'a1', outcome: 'confirmed', by: 'op' }, { alertId: 'a2', outcome: 'rejected' }]))).toMatchObject([{ kind: 'disposition', alertId: 'a1' }, { kind: 'disposition', alertId: 'a2' }]);
    expect(liveEvents('escalation', JSON.stringify({ alertId: 'a1' }))).toMatchObject([{ kind: 'escalation', alertId: 'a1' }]);
    expect(liveEvents('alert', 'not json')).toEqual([]);
    expect(liveEvents('alert', '{"alert": {}}')).toEqual([]);
  });
});

describe('plateDiff', () => {
  const marks = (cs: Array<{ differs: boolean }>): string => cs.map((c) => (c.differs ? '^' : '.')).join('');
  it('marks substitutions, insertions and deletions only', () => {
    const sub = plateDiff('7A8C123', '7ABC123');
    expect(marks(sub.read)).toBe('..^....');
    expect(marks(sub.listed)).toBe('..^....');
    const ins = plateDiff('7ABXC123', '7ABC123');
    expect(marks(ins.read)).toBe('...^....');
    expect(marks(ins.listed)).toBe('.......');
  });
  it('never marks a pattern wildcard', () => {
    expect(marks(patternDiff('7ABC123', '7AB?123').listed)).toBe('.......');
    expect(marks(patternDiff('7ABC123', '7A*').read)).toBe('.......');
  });
});

describe('files and times', () => {
  it('quotes CSV cells and defuses formulas', () => {
    expect(toCsv([{ a: 'x,y', b: '=1+1', c: { d: 1 } }], ['a', 'b', 'c'])).toBe('a,b,c\r\n"x,y",\'=1+1,"{""d"":1}"\r\n');
    expect(toNdjson([{ a: 1 }, { b: 2 }])).toBe('{"a":1}\n{"b":2}\n');
  });
  it('counts down and past the deadline', () => {
    expect(countdown(9 * 60_000 + 5_000)).toBe('9:05');
    expect(countdown(-65_000)).toBe('-1:05');
    expect(countdown(3_600_000 + 61_000)).toBe('1:01:01');
  });
});
