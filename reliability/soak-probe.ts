/**
 * The soak's first phase: the service's maximum sustained rate, measured in a closed loop on
 * its own nats-server and service.
 */
import { countRecords, wallMs } from '../bench/e2e-drive.js';
import { READS_SUBJECT } from './jetstream.js';
import type { ReadMaker } from './read-templates.js';
import { setUp, tearDown } from './soak-setup.js';
import type { TestData } from './test-data.js';
import { sleep } from './wait.js';

/**
 * Records/s the service sustains in a closed loop (at most `window` reads unanswered, as
 * bench/e2e-drive.ts `drive`), over `probeS` seconds after a 3 s warm-up.
 */
export async function probe(dir: string, data: TestData, make: ReadMaker, probeS: number, workers: number): Promise<number> {
  const s = await setUp(dir, data, workers);
  try {
    let records = 0;
    s.obs.subscribe('alpr.records.>', { callback: (_e, m) => void (records += Number(m.headers?.get('Platesieve-Records') || 0) || countRecords(m.data)) });
    await s.obs.flush();
    const window = 5000;
    let sent = 0;
    const run = async (seconds: number): Promise<number> => {
      const base = records;
      const t0 = performance.now();
      const end = t0 + seconds * 1000;
      while (performance.now() < end) {
        while (sent - records < window) {
          s.pub.publish(READS_SUBJECT, make(sent, wallMs()));
          sent++;
        }
        await sleep(1);
      }
      return (records - base) / ((performance.now() - t0) / 1000);
    };
    await run(3);
    return await run(probeS);
  } finally {
    await tearDown(s);
  }
}
