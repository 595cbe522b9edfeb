/**
 * Long-lived worker thread that checks live hotlist entries and compiles the live overlay, so
 * an apply never builds a matcher on the service's main thread (where every read is
 * batched, finalized and published). Unlike compile-worker.ts (one thread per reload, which
 * loads files for seconds), it stays up: an apply is a message, not a thread start and a
 * WebAssembly instantiation.
 *
 * A request carries the entries (already past the main thread's cheap checks: cancelled,
 * compacted, expiry); the answer names, by index, the entries kept and those refused by
 * the policy check or the matcher's own entry validation, plus the overlay's snapshot when
 * asked for one.
 */
import { parentPort, threadId } from 'node:worker_threads';
import { InvalidEntryError } from '../errors.js';
import { createMatcher } from '../matcher.js';
import { checkListType } from '../policy/index.js';
import type { HotlistEntry, MatcherOptions, MatcherSnapshot } from '../types.js';

/** One build or check. */
export interface OverlayBuildRequest {
  id: number;
  entries: HotlistEntry[];
  options: Omit<MatcherOptions, 'entries'>;
  /** Compile the kept entries into a snapshot (an overlay), not only check them (compaction). */
  snapshot: boolean;
}

/** An entry left out, and why (one line for the log and the audit record). */
export interface OverlayRefusal {
  index: number;
  code: 'FORBIDDEN_PURPOSE' | 'INVALID_ENTRY';
  error: string;
}

/** The answer to an {@link OverlayBuildRequest} of the same `id`: kept and refused entries by index, or why the build failed. */
export type OverlayBuildResponse =
  | { id: number; ok: true; kept: number[]; refused: OverlayRefusal[]; snapshot?: MatcherSnapshot; threadId: number; buildMs: number }
  | { id: number; ok: false; message: string };

function build(req: OverlayBuildRequest): Extract<OverlayBuildResponse, { ok: true }> {
  const started = performance.now();
  const refused: OverlayRefusal[] = [];
  let kept: number[] = [];
  req.entries.forEach((entry, index) => {
    const verdict = checkListType(entry.list);
    if (verdict.ok) kept.push(index);
    else refused.push({ index, code: 'FORBIDDEN_PURPOSE', error: `${verdict.reason} (${verdict.citation})` });
  });
  // One trial build checks them all; a malformed entry is named by its index and dropped.
  for (;;) {
    try {
      const matcher = kept.length > 0 ? createMatcher({ entries: kept.map((i) => req.entries[i]), ...req.options }) : undefined;
      const snapshot = req.snapshot ? matcher?.snapshot() : undefined;
      return { id: req.id, ok: true, kept, refused, snapshot, threadId, buildMs: performance.now() - started };
    } catch (err) {
      if (!(err instanceof InvalidEntryError)) throw err;
      const bad = kept[err.index];
      kept = kept.filter((_, k) => k !== err.index);
      refused.push({ index: bad, code: 'INVALID_ENTRY', error: err.message.replace(/^hotlist entry \d+: /, '') });
    }
  }
}

parentPort!.on('message', (req: OverlayBuildRequest) => {
  let res: OverlayBuildResponse;
  try {
    res = build(req);
  } catch (err) {
    res = { id: req.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  const transfer: ArrayBuffer[] = [];
  if (res.ok && res.snapshot !== undefined) {
    transfer.push(res.snapshot.bytes.buffer as ArrayBuffer);
    if (res.snapshot.patterns) transfer.push(res.snapshot.patterns.buffer as ArrayBuffer);
  }
  parentPort!.postMessage(res, transfer);
});
