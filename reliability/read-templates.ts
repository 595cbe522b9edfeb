/**
 * The soak's reads, encoded without msgpack on the hot path: each pool read packed once with
 * placeholders, and read `n` a copy with its id, camera and send time written in place.
 */
import { pack } from 'msgpackr';
import { readAt, type TestData } from './test-data.js';

/** Makes the encoded read `n` of a run, sent at `ts` (ms since the epoch). */
export type ReadMaker = (n: number, ts: number) => Buffer;

/**
 * Encoded reads made from the pool's templates: each with placeholders for id, camera and ts
 * that `make(n)` fills in a copy (no msgpack encoding per read while publishing).
 */
export function templates(pool: TestData['pool']): ReadMaker {
  const PH_ID = 'R9999999999';
  const PH_CAM = 'C9999999999';
  const PH_TS = 1.5e12 + 0.123;
  const tsBytes = Buffer.from(pack(PH_TS)).subarray(1);
  const packed = pool.map((r) => {
    const b = Buffer.from(pack({ ...readAt([r], 0, PH_TS), id: PH_ID, cameraId: PH_CAM }));
    const id = b.indexOf(PH_ID);
    const cam = b.indexOf(PH_CAM);
    const ts = b.indexOf(tsBytes);
    if (id < 0 || cam < 0 || ts < 0) throw new Error('placeholder not found in a packed read');
    return { b, id, cam, ts };
  });
  return (n, ts) => {
    const t = packed[n % packed.length];
    const b = Buffer.from(t.b);
    const digits = String(n).padStart(10, '0');
    b.write(digits, t.id + 1, 'latin1');
    b.write(digits, t.cam + 1, 'latin1');
    b.writeDoubleBE(ts, t.ts);
    return b;
  };
}
