/**
 * Alert output with backpressure: `write` resolves once the stream can take more, so a slow
 * consumer slows the reading of input instead of filling memory.
 */
import type { Writable } from 'node:stream';
import { OutputClosed } from './errors.js';

export class LineWriter {
  private error: NodeJS.ErrnoException | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly stream: Writable) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      this.error = err;
      this.wake?.();
    });
    stream.on('drain', () => this.wake?.());
  }

  private check(): void {
    const err = this.error;
    if (err === undefined) return;
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') throw new OutputClosed();
    throw err;
  }

  /** Writes `text` (whole lines), waiting for `drain` when the stream's buffer is full. */
  async write(text: string): Promise<void> {
    this.check();
    if (!this.stream.write(text)) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
      this.check();
    }
  }

  /** Ends the stream (unless it is standard output) and waits until everything is flushed. */
  async end(closeStream: boolean): Promise<void> {
    this.check();
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (closeStream) this.stream.end(done);
      else this.stream.write('', done);
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') throw new OutputClosed();
      throw err;
    });
  }
}
