/**
 * The live alert feed: GET /api/alerts/live read with fetch() and the Bearer header, parsed
 * by {@link SseParser}, reconnected with a growing pause when the stream ends or fails (a
 * restarted server, a dropped network) until {@link LiveFeed.close}.
 */
import { ApiError, authHeaders, sessionEnded } from './api.js';
import { liveEvents, type LiveEvent } from './alert-types.js';
import { SseParser } from './sse.js';

export type FeedState = 'connecting' | 'open' | 'retrying' | 'refused';

export class LiveFeed {
  private readonly abort = new AbortController();
  private closed = false;

  constructor(
    private readonly onEvent: (e: LiveEvent) => void,
    private readonly onState: (s: FeedState, detail?: string) => void,
  ) {
    void this.run();
  }

  close(): void {
    this.closed = true;
    this.abort.abort();
  }

  private async run(): Promise<void> {
    let pause = 500;
    while (!this.closed) {
      this.onState('connecting');
      try {
        const res = await fetch('/api/alerts/live', { headers: { ...authHeaders(), accept: 'text/event-stream' }, signal: this.abort.signal });
        if (res.status === 401 || res.status === 403) {
          this.onState('refused', `HTTP ${res.status}`);
          if (res.status === 401) sessionEnded();
          return;
        }
        if (!res.ok || res.body === null) throw new ApiError(res.status, `HTTP_${res.status}`, res.statusText, {});
        this.onState('open');
        pause = 500;
        const parser = new SseParser((e) => {
          for (const ev of liveEvents(e.event, e.data)) this.onEvent(ev);
        });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(value);
        }
      } catch (err) {
        if (this.closed) return;
        this.onState('retrying', err instanceof Error ? err.message : String(err));
      }
      if (this.closed) return;
      this.onState('retrying');
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 15_000);
    }
  }
}
