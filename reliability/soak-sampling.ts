/**
 * The soak's samples: every `--sample-s`, the service's RSS and heap (its /metrics), p99
 * publish-to-record latency of the records that arrived in the interval (taken here from each
 * record's `ts`; the service's own end-to-end p99 is kept beside it), the consumer's lag, and
 * the rates sent and stored.
 */
import type { JetStreamManager, NatsConnection } from 'nats';
import { eachTs, latencyHistogram, wallMs } from '../bench/e2e-drive.js';
import { human } from '../bench/util.js';
import { consumerState } from './jetstream.js';
import { metricValue, procRss } from './metrics.js';
import type { ServiceChild } from './service-child.js';
import { sleep } from './wait.js';

/** One sample (t in seconds from the start of the load). */
export interface Sample {
  t: number;
  rssMB: number;
  heapUsedMB: number;
  p99Ms: number;
  serviceP99Ms: number;
  lag: number;
  recordsPerS: number;
  sentPerS: number;
}

type Histogram = ReturnType<typeof latencyHistogram>;

/**
 * Every record as it arrives on `alpr.records.>`: counted, and its publish-to-record latency
 * (from its `ts`) kept in a histogram that each sample takes and starts afresh. Subscribes at
 * construction; flush the connection before the load starts.
 */
export class RecordLatency {
  /** Records seen so far. */
  seen = 0;
  private hist: Histogram = latencyHistogram();

  constructor(obs: NatsConnection) {
    obs.subscribe('alpr.records.>', {
      callback: (_e, m) => {
        const now = wallMs();
        eachTs(m.data, (ts) => {
          this.seen++;
          if (ts > 0) this.hist.recordValue(Math.max(1, Math.round((now - ts) * 1000)));
        });
      },
    });
  }

  /** The latencies since the last call (µs), and a fresh histogram started. */
  take(): Histogram {
    const h = this.hist;
    this.hist = latencyHistogram();
    return h;
  }
}

/** What {@link sampleRun} samples and for how long. */
export interface SamplingOptions {
  service: ServiceChild;
  jsm: JetStreamManager;
  latency: RecordLatency;
  /** Reads sent so far. */
  publisher: { readonly sent: number };
  /** `performance.now()` when the load started. */
  startPerf: number;
  seconds: number;
  sampleS: number;
  /** Prints one line per sample. */
  out(s: string): void;
}

/**
 * A sample every `sampleS` until `seconds` after the start, printed as it is taken; stops
 * early once the service has crashed. Returns the samples.
 */
export async function sampleRun(o: SamplingOptions): Promise<Sample[]> {
  const samples: Sample[] = [];
  let lastRecords = 0;
  let lastSent = 0;
  let lastAt = performance.now();
  const sampleOnce = async (): Promise<void> => {
    const text = await o.service.metricsText();
    const st = await consumerState(o.jsm);
    const nowPerf = performance.now();
    const dt = (nowPerf - lastAt) / 1000;
    const h = o.latency.take();
    const rss = metricValue(text, 'platesieve_process_resident_memory_bytes');
    const sample: Sample = {
      t: (nowPerf - o.startPerf) / 1000,
      rssMB: (Number.isFinite(rss) ? rss : procRss(o.service.pid)) / 2 ** 20,
      heapUsedMB: metricValue(text, 'platesieve_nodejs_heap_size_used_bytes') / 2 ** 20,
      p99Ms: h.totalCount > 0 ? h.getValueAtPercentile(99) / 1000 : Number.NaN,
      serviceP99Ms: metricValue(text, 'platesieve_latency_seconds', { stage: 'end_to_end', quantile: '0.99' }) * 1000,
      lag: st === undefined ? Number.NaN : st.pending + st.ackPending,
      recordsPerS: (o.latency.seen - lastRecords) / dt,
      sentPerS: (o.publisher.sent - lastSent) / dt,
    };
    lastRecords = o.latency.seen;
    lastSent = o.publisher.sent;
    lastAt = nowPerf;
    samples.push(sample);
    o.out(
      `  ${(sample.t / 60).toFixed(1).padStart(5)} min  rss ${sample.rssMB.toFixed(0)} MB  heap ${sample.heapUsedMB.toFixed(0)} MB  p99 ${sample.p99Ms.toFixed(1)} ms` +
        ` (service ${sample.serviceP99Ms.toFixed(1)})  lag ${sample.lag}  ${human(sample.recordsPerS)} records/s`,
    );
  };
  const endAt = o.startPerf + o.seconds * 1000;
  let next = o.startPerf + o.sampleS * 1000;
  while (next <= endAt + 1) {
    await sleep(Math.max(0, next - performance.now()));
    await sampleOnce();
    if (o.service.crashes.length > 0) break;
    next += o.sampleS * 1000;
  }
  return samples;
}
