/**
 * One-shot worker thread that loads every hotlist source and builds the snapshot, so a
 * reload never parses files or builds tables (seconds for millions of entries) on the
 * service's main thread. The entries come back as JSON lines in one transferred buffer:
 * the main thread parses an entry only when it alerts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { compileHotlist } from '../core/compile.js';
import { resolveOptions } from '../options.js';
import { snapshotOf } from '../matcher.js';
import type { HotlistEntry, MatcherOptions, MatcherSnapshot } from '../types.js';
import { entryIdOf } from '../alerts.js';
import type { HotlistSourceConfig } from './config.js';
import { loadSources, type LoadedSource } from './hotlists.js';

export interface LoadRequest {
  sources: HotlistSourceConfig[];
  options: Omit<MatcherOptions, 'entries' | 'sourceRefreshedAt'>;
  logLevel: string;
  /** Live entries compacted into this version (liveUpdates), already checked. */
  live?: HotlistEntry[];
  /** Entry ids cancelled live: left out of this version. */
  cancelled?: string[];
}

export type LoadResponse =
  | {
      ok: true;
      snapshot: MatcherSnapshot;
      entryBytes: Uint8Array;
      entryOffsets: Uint32Array;
      sources: LoadedSource[];
      refreshed: Array<[string, number]>;
      maxAge: Array<[string, number]>;
      /** File entries by the source they name, for exactly the sources of `refreshed` (0 when none). */
      sourceEntries: Array<[string, number]>;
    }
  | { ok: false; message: string; code?: string; file?: string };

async function run(req: LoadRequest): Promise<LoadResponse> {
  const logger = pino({ level: req.logLevel, base: { service: 'platesieve', stage: 'hotlist' } });
  const loaded = await loadSources(req.sources, logger);
  // A source's age is its oldest file's; rows naming another source than their file's
  // count as that source, refreshed when their file was.
  const refreshed = new Map<string, number>();
  const maxAge = new Map<string, number>();
  for (const src of loaded.sources) {
    for (const name of [src.source, ...src.rowSources]) {
      refreshed.set(name, Math.min(refreshed.get(name) ?? Infinity, src.refreshedAt));
      maxAge.set(name, Math.min(maxAge.get(name) ?? Infinity, src.maxAgeS));
    }
  }
  // Counted over the same names as the ages, so the two gauges list the same sources.
  const sourceEntries = new Map<string, number>([...refreshed.keys()].map((name) => [name, 0]));
  for (const e of loaded.entries) if (e.source !== undefined && sourceEntries.has(e.source)) sourceEntries.set(e.source, sourceEntries.get(e.source)! + 1);
  let entries = loaded.entries;
  if ((req.cancelled?.length ?? 0) > 0) {
    const cancelled = new Set(req.cancelled);
    entries = entries.filter((e, i) => !cancelled.has(entryIdOf(e, i)));
  }
  if ((req.live?.length ?? 0) > 0) entries = [...entries, ...req.live!];
  loaded.entries = entries;
  const opts = resolveOptions({ ...req.options, entries, sourceRefreshedAt: Object.fromEntries(refreshed) });
  const snapshot = snapshotOf(compileHotlist(entries, opts), opts);
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const entryOffsets = new Uint32Array(loaded.entries.length + 1);
  let at = 0;
  for (let i = 0; i < loaded.entries.length; i++) {
    const bytes = encoder.encode(JSON.stringify(loaded.entries[i]));
    parts.push(bytes);
    at += bytes.length;
    entryOffsets[i + 1] = at;
  }
  const entryBytes = new Uint8Array(at);
  let pos = 0;
  for (const p of parts) {
    entryBytes.set(p, pos);
    pos += p.length;
  }
  return { ok: true, snapshot, entryBytes, entryOffsets, sources: loaded.sources, refreshed: [...refreshed], maxAge: [...maxAge], sourceEntries: [...sourceEntries] };
}

run(workerData as LoadRequest).then(
  (res) => {
    const transfer: ArrayBuffer[] = [];
    if (res.ok) {
      transfer.push(res.snapshot.bytes.buffer as ArrayBuffer, res.entryBytes.buffer as ArrayBuffer, res.entryOffsets.buffer as ArrayBuffer);
      if (res.snapshot.patterns) transfer.push(res.snapshot.patterns.buffer as ArrayBuffer);
    }
    parentPort!.postMessage(res, transfer);
  },
  (err: unknown) => {
    const e = err as { message?: string; code?: string; file?: string };
    parentPort!.postMessage({ ok: false, message: e?.message ?? String(err), code: e?.code, file: e?.file } satisfies LoadResponse);
  },
);
