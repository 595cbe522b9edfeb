/**
 * Target `msgpack`: the core's msgpack scanner and record writer (core-wasm reads.ts,
 * records.ts via service/core-reads.ts), differential against msgpackr: a batch of messages
 * runs through the fast path and the object path, which must agree byte for byte (a read
 * the scanner is not sure of must be handed to the object path, never decided differently).
 */
import type { Rng } from '../rng.js';
import { mutateBytes } from '../mutate.js';
import type { FuzzCase, Target } from '../types.js';
import { msgpackOf } from './msgpack-writer.js';
import { caseOf, coreBytes, runBothPaths, type ServiceCounters } from './service-harness.js';
import { messageVal } from './values.js';

const utf8 = new TextEncoder();

function message(rng: Rng): Uint8Array {
  // Mostly generated msgpack; now and then what else arrives on the subject.
  return rng.weighted<() => Uint8Array>([
    [95, () => msgpackOf(rng, messageVal(rng))],
    [2, () => utf8.encode(rng.pick([' {"plate":"NOHIT1"}', '[{"plate":"ABC123","state":"CO"}]', '{']))],
    [2, () => new Uint8Array(0)],
    [1, () => rng.bytes(rng.size(40))],
  ])();
}

function generate(rng: Rng): FuzzCase {
  const n = rng.weighted([[6, 1], [3, 2], [1, rng.range(3, 6)]]);
  const messages = Array.from({ length: n }, () => message(rng));
  // Half the cases are mutated: one to three messages, each by one to four mutations.
  if (rng.chance(0.5)) {
    for (let k = rng.weighted([[8, 1], [2, 2], [1, 3]]); k > 0; k--) {
      const i = rng.int(n);
      messages[i] = mutateBytes(rng, messages[i], { msgpack: true, donors: messages });
    }
  }
  return caseOf(messages, rng.int(4));
}

const counters: ServiceCounters = { messages: 0, reads: 0, fastReads: 0 };

/** The msgpack fuzz target. */
export const msgpackTarget: Target = {
  name: 'msgpack',
  description: 'core msgpack scanner + record writer vs msgpackr (fast path vs object path, processTask)',
  generate,
  run: (c) => runBothPaths(c, counters),
  counters: () => ({ ...counters }),
  externalBytes: coreBytes,
};
