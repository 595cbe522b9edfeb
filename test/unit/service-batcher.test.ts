/**
 * Smart batching: messages that arrive together leave together at once (no timer wait at low
 * rates), batches grow while every slot is busy, and the count and time bounds still hold.
 */
import { describe, expect, it } from 'vitest';
import { Batcher, type BatcherOptions } from '../../matcher/service/batcher.js';

interface Item {
  data: Uint8Array;
  n: number;
}

const item = (n: number): Item => ({ data: new Uint8Array(10), n });
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function batcher(opts: Partial<BatcherOptions>, hold?: () => Promise<void>): { b: Batcher<Item>; batches: number[][] } {
  const batches: number[][] = [];
  const b = new Batcher<Item>(
    { maxMessages: 512, maxBytes: 1 << 20, waitMs: 10_000, maxInFlight: 1, maxPending: 100_000, maxPendingBytes: 1 << 30, ...opts },
    async (batch) => {
      batches.push(batch.map((x) => x.n));
      await hold?.();
    },
  );
  return { b, batches };
}

describe('Batcher', () => {
  it('sends what arrived in one turn of the event loop without waiting for waitMs', async () => {
    const { b, batches } = batcher({});
    for (let i = 0; i < 5; i++) b.push(item(i));
    expect(batches).toEqual([]);
    await tick();
    await tick();
    expect(batches).toEqual([[0, 1, 2, 3, 4]]);
  });

  it('grows the next batch while every slot is busy, and sends it when a slot frees', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { b, batches } = batcher({ maxInFlight: 1 }, () => (batches.length === 1 ? gate : Promise.resolve()));
    b.push(item(0));
    await tick();
    expect(batches).toEqual([[0]]);
    for (let i = 1; i <= 3; i++) {
      b.push(item(i));
      await tick();
    }
    expect(batches).toEqual([[0]]); // the slot is busy: 1..3 wait together
    release();
    await tick();
    await tick();
    expect(batches).toEqual([[0], [1, 2, 3]]);
  });

  it('sends a full batch at once and the rest right after', async () => {
    const { b, batches } = batcher({ maxMessages: 3, waitMs: 20, maxInFlight: 4 });
    for (let i = 0; i < 4; i++) b.push(item(i));
    expect(batches).toEqual([[0, 1, 2]]);
    await new Promise((r) => setTimeout(r, 40));
    expect(batches).toEqual([[0, 1, 2], [3]]);
    await b.drain();
  });

  it('refuses messages beyond maxPending', () => {
    const { b } = batcher({ maxPending: 2 });
    expect([b.push(item(0)), b.push(item(1)), b.push(item(2))]).toEqual([true, true, false]);
  });
});
