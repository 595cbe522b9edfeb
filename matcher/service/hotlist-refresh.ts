/**
 * Hotlist refresh and the bookkeeping of refused reloads: the timers that look for a newer
 * file, the count of reloads refused in a row (health turns `degraded` past
 * `hotlistRefusalsDegraded`), and the audit record of a refusal, written once per version of
 * the refused file rather than at every refresh tick that tries it again.
 */
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/index.js';
import type { HotlistSourceConfig } from './config.js';
import type { LoadedSource } from './hotlists.js';
import type { ReloadHealth } from './http.js';

/** Identity of a file's content for "already audited": path, modification time and size. */
async function fileVersion(file: string): Promise<string> {
  try {
    const st = await stat(file);
    return `${file}\u0000${st.mtimeMs}\u0000${st.size}`;
  } catch (err) {
    return `${file}\u0000${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`;
  }
}

/** Reloads refused in a row, and which refused file versions the audit log already holds. */
export class ReloadRefusals {
  private consecutive = 0;
  private lastAt?: number;
  private lastError?: string;
  /** Per refused file (or per message, for a refusal naming no file): the version last audited. */
  private readonly audited = new Map<string, string>();

  constructor(
    private readonly degradedAfter: number,
    private readonly audit: AuditLog | undefined,
    private readonly logger: Logger,
  ) {}

  /**
   * A reload was refused: counted, and audited unless the same version of the same file
   * was refused (and audited) before. Resolves once the audit record is written.
   */
  async refused(reason: string, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    this.consecutive++;
    this.lastAt = Date.now();
    this.lastError = message;
    const file = (err as { file?: unknown } | null)?.file;
    const key = typeof file === 'string' ? file : `\u0000${message}`;
    const version = typeof file === 'string' ? await fileVersion(file) : message;
    if (this.audited.get(key) === version) return;
    this.audited.set(key, version);
    await this.audit
      ?.append({ action: 'hotlist.refused', outcome: 'refused', reason: `${reason}: ${message}`, subject: typeof file === 'string' ? { file } : undefined })
      .catch((e: unknown) => this.logger.error({ err: e }, 'audit log append failed'));
  }

  /** A reload was swapped in: the run of refusals ends, and a later refusal of any version is news again. */
  succeeded(): void {
    this.consecutive = 0;
    this.audited.clear();
  }

  /** The `hotlistReload` check of `/healthz`. */
  health(): ReloadHealth {
    const h: ReloadHealth = { consecutiveRefusals: this.consecutive, degradedAfter: this.degradedAfter };
    if (this.lastAt !== undefined) h.lastRefusedAt = new Date(this.lastAt).toISOString();
    if (this.lastError !== undefined) h.lastError = this.lastError;
    return h;
  }
}

/**
 * Checks each source's file every `refreshMinutes` and reloads when its modification time
 * differs from the version in force. Returns the timers (unref'd) for the caller to clear.
 */
export function scheduleRefresh(
  configs: readonly HotlistSourceConfig[],
  sources: () => readonly LoadedSource[],
  reload: (reason: string) => Promise<unknown>,
  logger: Logger,
): NodeJS.Timeout[] {
  const timers: NodeJS.Timeout[] = [];
  for (const cfg of configs) {
    if (cfg.refreshMinutes <= 0) continue;
    const timer = setInterval(() => {
      void (async () => {
        const src = sources().find((x) => x.file === cfg.file);
        try {
          const { mtimeMs } = await stat(cfg.file);
          if (src === undefined || mtimeMs !== src.refreshedAt) await reload(`${cfg.file} changed`);
        } catch (err) {
          logger.warn({ file: cfg.file, error: (err as Error).message }, 'hotlist file not readable; the version in force stays');
        }
      })();
    }, cfg.refreshMinutes * 60_000);
    timer.unref();
    timers.push(timer);
  }
  return timers;
}
