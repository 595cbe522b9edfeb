/**
 * The harness's publishers of reads. The fault table's sends through JetStream at a fixed
 * rate, each read retried until the reads stream acknowledges it (with `Nats-Msg-Id` = read
 * id, so a retry stores nothing twice). The soak's is a paced core publish of pre-encoded
 * reads, one a message. Nothing here prints.
 */
import { pack } from 'msgpackr';
import type { NatsConnection } from 'nats';
import type { PlateRead } from '../matcher/types.js';
import { wallMs } from '../bench/e2e-drive.js';
import { READS_SUBJECT } from './jetstream.js';
import type { ReadMaker } from './read-templates.js';
import { readAt, readId } from './test-data.js';
import { sleep, until } from './wait.js';

/**
 * Sends reads at a fixed rate to the reads stream through JetStream (each publish waits for
 * the stream's acknowledgement), `Nats-Msg-Id` = read id. A publish that fails or times out
 * (nats-server down, reconnecting) is retried every 250 ms until acknowledged: a read counts
 * as published once the stream has it. At most `maxOutstanding` reads wait for an
 * acknowledgement; beyond that the publisher falls behind its rate (and says so).
 */
export class AckedPublisher {
  /** Reads created so far (sequence numbers 0..created-1). */
  created = 0;
  /** Reads the reads stream acknowledged. */
  acked = 0;
  /** Publishes that failed or timed out and were tried again. */
  retries = 0;
  /** Reads sent (or waiting to be sent again) and not yet acknowledged. */
  outstanding = 0;
  /** Why publishes failed (first words of the error), counted. */
  readonly errors: Record<string, number> = {};
  /** Publish-side acknowledged flags, by sequence number. */
  readonly ackedFlags: Uint8Array;
  /** Every read created, by sequence number. */
  readonly reads: PlateRead[] = [];
  private running = false;
  private loop?: Promise<void>;
  private startedAt = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly pool: readonly PlateRead[],
    private readonly rate: number,
    capacity: number,
    private readonly maxOutstanding = 5000,
  ) {
    this.ackedFlags = new Uint8Array(capacity);
  }

  /** Starts sending, at `rate` reads a second from now. */
  start(): void {
    this.running = true;
    this.startedAt = performance.now();
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const js = this.nc.jetstream();
    while (this.running) {
      const due = Math.floor(((performance.now() - this.startedAt) / 1000) * this.rate);
      while (this.created < due && this.created < this.ackedFlags.length && this.outstanding < this.maxOutstanding) {
        const n = this.created++;
        const read = readAt(this.pool, n, Math.round(wallMs() * 1000) / 1000);
        this.reads.push(read);
        this.send(js, n, pack(read));
      }
      await sleep(5);
    }
  }

  private send(js: ReturnType<NatsConnection['jetstream']>, n: number, data: Uint8Array): void {
    this.outstanding++;
    const id = readId(n);
    js.publish(READS_SUBJECT, data, { msgID: id, timeout: 4000 }).then(
      () => {
        this.outstanding--;
        this.ackedFlags[n] = 1;
        this.acked++;
      },
      (err: unknown) => {
        this.retries++;
        const why = String((err as Error)?.message ?? err).slice(0, 60);
        this.errors[why] = (this.errors[why] ?? 0) + 1;
        setTimeout(() => {
          this.outstanding--;
          this.send(js, n, data);
        }, 250);
      },
    );
  }

  /** Stops creating reads and waits (bounded) until every read created is acknowledged. */
  async stop(timeoutMs = 60_000): Promise<boolean> {
    this.running = false;
    await this.loop;
    return until(() => this.acked === this.created, timeoutMs, 50);
  }
}

/**
 * The soak's publisher: paced, one read a message, core publish into the reads stream's
 * subject; read `n` is due `n / rate` seconds after `startPerf` (a `performance.now()` time),
 * and at most `capacity` reads are sent. Starts at construction.
 */
export class PacedPublisher {
  /** Reads sent so far (sequence numbers 0..sent-1). */
  sent = 0;
  private publishing = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly make: ReadMaker,
    private readonly rate: number,
    private readonly capacity: number,
    private readonly startPerf: number,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.publishing) {
      const due = Math.min(this.capacity, Math.floor(((performance.now() - this.startPerf) / 1000) * this.rate));
      while (this.sent < due) {
        this.nc.publish(READS_SUBJECT, this.make(this.sent, wallMs()));
        this.sent++;
      }
      await sleep(1);
    }
  }

  /** Stops sending and waits for the loop to end (it does not flush the connection). */
  async stop(): Promise<void> {
    this.publishing = false;
    await this.loop;
  }
}
