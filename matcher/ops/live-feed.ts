/**
 * The live feed behind GET /api/alerts/live (routes/live.ts): one NATS subscription per server
 * to `<prefix>.alerts.>`, `<prefix>.escalations.>` and `<prefix>.disposed.>` (recorded dispositions), fanned out as
 * Server-Sent Events to every connected console. The subscriptions exist only while a client is
 * connected, so an ops instance nobody watches decodes nothing. Each message is decoded and
 * serialized once, whatever the number of clients.
 */
import type { ServerResponse } from 'node:http';
import type { Msg, NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import { confirmationWindow, DEFAULT_WINDOWS, type WindowKind, type WindowSettings } from '../dispositions/windows.js';
import { unpackr } from '../service/msgpack.js';

/** Options of {@link LiveFeed}. */
export interface LiveFeedOptions {
  nats: NatsConnection;
  /** `subjects.prefix`. Default `alpr`. */
  prefix?: string;
  /** Confirmation windows (`escalation`), for each alert's deadline. */
  windows?: WindowSettings;
  /** Streams at once, per instance. Default 200. */
  maxClients?: number;
  /** Between two `: ping` comments. Default 15 000. */
  heartbeatMs?: number;
  logger: Logger;
  now?: () => number;
}

/** The `data` of an `alert` event. */
export interface LiveAlertEvent {
  /** The alert as published. */
  alert: Record<string, unknown>;
  /** When its confirmation window closes, epoch ms; null for historical alerts. */
  deadline: number | null;
  windowKind: WindowKind | null;
  /** When this ops instance received it, epoch ms. */
  receivedAt: number;
}

/** One connected console. */
interface Client {
  res: ServerResponse;
  user: string;
  end(reason?: string): void;
}

// A console that cannot keep up (a stalled connection) is dropped rather than buffered without end.
const MAX_BUFFERED = 1024 * 1024;
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const text = new TextDecoder();

/** A message body as the services publish it: JSON, or msgpack (anything not starting `{` or `[`). */
export function decodePayload(data: Uint8Array): unknown {
  let i = 0;
  while (i < data.length && WHITESPACE.has(data[i])) i++;
  const c = data[i];
  return c === 0x7b || c === 0x5b ? (JSON.parse(text.decode(data)) as unknown) : unpackr.unpack(data);
}

/** The event of one published alert. */
export function alertEvent(alert: Record<string, unknown>, receivedAt: number, windows: WindowSettings = DEFAULT_WINDOWS): LiveAlertEvent {
  if (alert.historical === true) return { alert, deadline: null, windowKind: null, receivedAt };
  const at = typeof alert.ts === 'number' && Number.isFinite(alert.ts) ? alert.ts : receivedAt;
  const list = typeof alert.list === 'string' ? alert.list : undefined;
  const priority = typeof alert.priority === 'number' ? alert.priority : undefined;
  const w = confirmationWindow(list, priority, windows);
  return { alert, deadline: at + w.ms, windowKind: w.kind, receivedAt };
}

function frame(event: string, data: unknown): string {
  // JSON.stringify never writes a raw newline, so one `data:` line holds the whole event.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A JSON object or msgpack map (msgpackr also makes class instances, e.g. of the unused byte 0xc1). */
function isObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The fan-out of NATS alert, escalation and disposition messages to SSE clients. */
export class LiveFeed {
  private readonly clients = new Set<Client>();
  private subs: Subscription[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly prefix: string;
  private readonly windows: WindowSettings;
  private readonly now: () => number;
  private readonly log: Logger;
  /** Streams allowed at once. */
  readonly maxClients: number;

  constructor(private readonly options: LiveFeedOptions) {
    this.prefix = options.prefix ?? 'alpr';
    this.windows = options.windows ?? DEFAULT_WINDOWS;
    this.maxClients = options.maxClients ?? 200;
    this.now = options.now ?? Date.now;
    this.log = options.logger.child({ component: 'live-feed' });
  }

  /** Streams open now. */
  get size(): number {
    return this.clients.size;
  }

  /** Whether a new stream would exceed {@link maxClients}. */
  get full(): boolean {
    return this.clients.size >= this.maxClients;
  }

  /** Whether NATS is there to follow. */
  get available(): boolean {
    return !this.options.nats.isClosed();
  }

  /**
   * Writes the SSE head on `res` (a hijacked reply) and adds it to the fan-out. Returns the
   * function that ends the stream (its `reason` is sent first as an `end` event).
   */
  attach(res: ServerResponse, user: string): (reason?: string) => void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // nginx and similar proxies buffer responses unless told otherwise.
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
    });
    res.write(': connected\n\n');
    const client: Client = {
      res,
      user,
      end: (reason?: string) => {
        if (!this.clients.delete(client)) return;
        if (reason !== undefined && !res.writableEnded) res.write(frame('end', { reason }));
        res.end();
        this.idle();
      },
    };
    this.clients.add(client);
    res.on('close', () => client.end());
    if (this.clients.size === 1) this.subscribe();
    this.log.debug({ user, clients: this.clients.size }, 'live stream opened');
    return (reason?: string) => client.end(reason);
  }

  /** Ends every stream (the server is closing) and drops the subscriptions. */
  close(): void {
    for (const c of [...this.clients]) c.end('server closing');
    this.idle();
  }

  private subscribe(): void {
    const p = this.prefix;
    const kinds: Array<[string, (m: Msg) => void]> = [
      [`${p}.alerts.>`, (m) => this.onAlert(m)],
      [`${p}.escalations.>`, (m) => this.onOther('escalation', m)],
      [`${p}.disposed.>`, (m) => this.onOther('disposition', m)],
    ];
    this.subs = kinds.map(([subject, handle]) => this.options.nats.subscribe(subject, {
      callback: (err, m) => {
        if (err !== null) {
          this.log.warn({ err, subject }, 'live feed subscription error');
          return;
        }
        try {
          handle(m);
        } catch (e) {
          // One undecodable message is logged and skipped; the stream goes on.
          this.log.warn({ subject: m.subject, reason: (e as Error).message }, 'live feed: message not decodable, skipped');
        }
      },
    }));
    this.heartbeat = setInterval(() => this.broadcast(': ping\n\n'), this.options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  /** With no client left: no subscription, no heartbeat. */
  private idle(): void {
    if (this.clients.size > 0) return;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
  }

  private onAlert(m: Msg): void {
    const receivedAt = this.now();
    const value = decodePayload(m.data);
    // An array message carries several alerts; each is its own event.
    const items = Array.isArray(value) ? value : [value];
    let out = '';
    for (const item of items) if (isObject(item)) out += frame('alert', alertEvent(item, receivedAt, this.windows));
    if (out !== '') this.broadcast(out);
  }

  private onOther(event: 'escalation' | 'disposition', m: Msg): void {
    const value = decodePayload(m.data);
    if (isObject(value) || (Array.isArray(value) && value.every(isObject))) this.broadcast(frame(event, value));
    else this.log.warn({ subject: m.subject }, 'live feed: message is not an object, skipped');
  }

  private broadcast(chunk: string): void {
    for (const c of [...this.clients]) {
      if (c.res.writableLength > MAX_BUFFERED) {
        this.log.warn({ user: c.user }, 'live stream dropped: the client does not keep up');
        c.end();
        continue;
      }
      c.res.write(chunk);
    }
  }
}
