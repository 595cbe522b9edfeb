/**
 * Batching of incoming messages by count, bytes and time, with a bound on batches in
 * flight ("smart batching"): a batch leaves as soon as the messages that arrived together
 * (one socket read's worth) have been taken in and a slot is free, when it is full, or at
 * the latest `waitMs` after its first message. At low rates a read waits for no timer; at
 * high rates batches fill up while the slots are busy, so they grow with the load. Backpressure: in JetStream mode the consumer
 * awaits `room()` before taking more messages; in core mode (no flow control in NATS) at
 * most `maxPending` messages wait, and the rest are dropped and counted, which is the
 * at-most-once contract of core NATS (see docs/operations.md).
 *
 *   push() --> [ filling ] --full/timer--> [ queued batches ] --slot free--> dispatch()
 *                                           (<= maxInFlight running)
 */
export interface BatcherOptions {
  /** Messages per batch. */
  maxMessages: number;
  /** Payload bytes per batch. */
  maxBytes: number;
  waitMs: number;
  maxInFlight: number;
  /** Messages that may wait in filling and queued batches before push() refuses. */
  maxPending: number;
  /** Payload bytes that may wait before push() refuses (bursts are absorbed up to this). */
  maxPendingBytes: number;
}

export interface Sized {
  data: Uint8Array;
}

export class Batcher<T extends Sized> {
  private filling: T[] = [];
  private fillingBytes = 0;
  private readonly queued: T[][] = [];
  private queuedMessages = 0;
  private pendingBytes = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private roomWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly opts: BatcherOptions,
    private readonly dispatch: (batch: T[]) => Promise<void>,
  ) {}

  get running(): number {
    return this.inFlight;
  }

  get pending(): number {
    return this.filling.length + this.queuedMessages;
  }

  /** Adds a message; false when it was refused because too many wait already. */
  push(item: T): boolean {
    if (this.pending >= this.opts.maxPending || this.pendingBytes >= this.opts.maxPendingBytes) return false;
    this.filling.push(item);
    this.fillingBytes += item.data.length;
    this.pendingBytes += item.data.length;
    if (this.filling.length >= this.opts.maxMessages || this.fillingBytes >= this.opts.maxBytes) {
      this.flush();
      return true;
    }
    if (this.timer === undefined) this.timer = setTimeout(() => this.flush(), this.opts.waitMs);
    // After the I/O callbacks of this turn of the event loop: everything that arrived together.
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      this.flushIfIdle();
    });
    return true;
  }

  /** Sends the filling batch if a slot is free for it now (else it keeps filling). */
  private flushIfIdle(): void {
    if (this.filling.length > 0 && this.queued.length === 0 && this.inFlight < this.opts.maxInFlight) this.flush();
  }

  /** Resolves when another batch could start at once (the consumer's backpressure). */
  room(): Promise<void> {
    if (this.queued.length === 0 && this.inFlight < this.opts.maxInFlight) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Sends the filling batch now. */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.filling.length === 0) return;
    this.queued.push(this.filling);
    this.queuedMessages += this.filling.length;
    this.filling = [];
    this.fillingBytes = 0;
    this.pump();
  }

  /** Flushes and resolves once every batch has been processed. */
  drain(): Promise<void> {
    this.flush();
    if (this.inFlight === 0 && this.queued.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.opts.maxInFlight && this.queued.length > 0) {
      const batch = this.queued.shift()!;
      this.queuedMessages -= batch.length;
      for (const m of batch) this.pendingBytes -= m.data.length;
      this.inFlight++;
      // dispatch handles its own errors; finally keeps the accounting right regardless.
      void this.dispatch(batch).finally(() => {
        this.inFlight--;
        this.pump();
        // What arrived while every slot was busy leaves now.
        this.flushIfIdle();
        this.wake();
      });
    }
    this.wake();
  }

  private wake(): void {
    if (this.roomWaiters.length > 0 && this.queued.length === 0 && this.inFlight < this.opts.maxInFlight) {
      const waiters = this.roomWaiters;
      this.roomWaiters = [];
      for (const w of waiters) w();
    }
    if (this.idleWaiters.length > 0 && this.inFlight === 0 && this.queued.length === 0 && this.filling.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
