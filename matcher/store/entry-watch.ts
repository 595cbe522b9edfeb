/**
 * The hotlist entries in force, as `platesieve store` sees them for historical hits
 * (historical.ts): the live bucket followed with the service's own {@link LiveUpdates}, and
 * the configured hotlist files, whose modification time and size are polled every
 * {@link FILE_POLL_MS}. Each entry carries a content key ({@link entryKey}): an unchanged
 * entry reloaded (a file written again, a live entry put again) keeps its key, so only an
 * entry whose key was never seen is "added".
 *
 * The checks are the service's: a live entry must pass the list-type and purpose policies,
 * carry a plate that normalizes (or a valid partial pattern with its required fields), and
 * not be lapsed; cancelled ids (live `cancel.<id>`) are left out, whatever their origin. A
 * file entry was checked by the loader. An entry left out is not recorded as known, so a
 * cancellation lifted later makes it "added" then.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { entryIdOf } from '../alerts.js';
import { isJunkPlate, normalizePlate, normalizeState } from '../core/plate.js';
import { parsePattern } from '../core/patterns.js';
import { checkEntryPurpose, checkListType } from '../policy/index.js';
import type { HotlistEntry } from '../types.js';
import type { ServiceConfig } from '../service/config.js';
import { lapsed, lapseTime } from '../service/expiry.js';
import { loadSources } from '../service/hotlists.js';
import { LiveUpdates } from '../service/live.js';

/** How often the hotlist files' modification time and size are looked at. */
export const FILE_POLL_MS = 2_000;

/** An entry in force, with what a historical alert needs to name it. */
export interface WatchedEntry {
  /** Content key: id + plate (or pattern) + state + list. */
  key: string;
  /** The entry id alerts carry ({@link entryIdOf}, the live key's id for a live entry). */
  entryId: string;
  entry: HotlistEntry;
  origin: 'live' | 'file';
  /** When the entry arrived (epoch ms): the KV write (server clock), or the file's modification time. */
  arrivedAt: number;
  /** `hotlistVersion` of its alerts. */
  version: string;
}

const SEPARATORS = /[ \-.\u00b7]/g;
const PARTIAL_REQUIRED = ['case', 'enteredBy', 'purpose', 'expires'] as const;

/** The normalized plate of a plate entry, or undefined (a pattern entry, or a plate that does not normalize). */
export function entryPlate(entry: HotlistEntry): string | undefined {
  if (typeof entry.plate !== 'string') return undefined;
  const n = normalizePlate(entry.plate);
  return n.ok ? n.plate : undefined;
}

/** The normalized pattern of a partial entry (upper-cased, separators dropped). */
export function entryPattern(entry: HotlistEntry): string | undefined {
  return typeof entry.plate !== 'string' && typeof entry.pattern === 'string' ? entry.pattern.toUpperCase().replace(SEPARATORS, '') : undefined;
}

/**
 * The content key of an entry: a hash of its id (its own, or source and record number; a
 * position-based id is left out, it moves when a file gains a row above it), its normalized
 * plate or pattern, its state and its list.
 */
export function entryKey(entry: HotlistEntry, id: string | undefined): string {
  const stable = id !== undefined && !id.startsWith('#') ? id : '';
  const parts = [stable, entryPlate(entry) ?? entry.plate ?? '', entryPattern(entry) ?? '', normalizeState(entry.state), entry.list];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40);
}

/** Why a live entry would not be matched by the service (undefined: it would). */
export function refusalOf(entry: HotlistEntry): string | undefined {
  if (typeof entry !== 'object' || entry === null) return 'not an object';
  if (typeof entry.list !== 'string' || entry.list === '') return 'no list type';
  if (lapseTime(entry.expires) === null) return `expires ${JSON.stringify(entry.expires)} is not a date`;
  if (typeof entry.plate === 'string') {
    const n = normalizePlate(entry.plate);
    if (!n.ok) return n.reason;
    if (isJunkPlate(n.plate)) return 'junk plate';
    // As the service's overlay (overlay-worker.ts): the list type's policy for a plate entry.
    const verdict = checkListType(entry.list);
    return verdict.ok ? undefined : `${verdict.reason} (${verdict.citation})`;
  }
  if (typeof entry.pattern !== 'string') return 'no plate (or pattern)';
  for (const k of PARTIAL_REQUIRED) if (entry[k] === undefined || entry[k] === null || entry[k] === '') return `partial entry has no ${k}`;
  const verdict = checkEntryPurpose({ list: entry.list, notes: entry.notes, purpose: entry.purpose, case: entry.case });
  if (!verdict.ok) return `${verdict.reason} (${verdict.citation})`;
  const parsed = parsePattern(entry.pattern);
  return parsed.ok ? undefined : parsed.reason;
}

/** Identity of the hotlist files' versions: path, modification time and size of each. */
async function filesSignature(config: ServiceConfig): Promise<{ signature: string; newest: number }> {
  const parts: string[] = [];
  let newest = 0;
  for (const h of config.hotlists) {
    try {
      const st = await stat(h.file);
      parts.push(`${h.file}\u0000${st.mtimeMs}\u0000${st.size}`);
      newest = Math.max(newest, st.mtimeMs);
    } catch (err) {
      parts.push(`${h.file}\u0000${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
  }
  return { signature: parts.join('\u0001'), newest };
}

/** The hotlist entries in force: live and file entries, with their keys; `onChange` on any change. */
export class EntryWatch {
  private files: WatchedEntry[] = [];
  private fileSignature = '';
  private failedSignature = '';
  private live?: LiveUpdates;
  /** Live entries by id: the revision their WatchedEntry was made from. */
  private readonly liveCache = new Map<string, { revision: number; watched: WatchedEntry }>();
  /** Live entries refused, by id: the revision logged (one line per revision). */
  private readonly refused = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private polling = false;

  private constructor(
    private readonly config: ServiceConfig,
    private readonly log: Logger,
    private readonly onChange: () => void,
  ) {}

  /** Loads the files and reads the live bucket (when configured); then follows both. */
  static async start(nc: NatsConnection, config: ServiceConfig, log: Logger, onChange: () => void): Promise<EntryWatch> {
    const w = new EntryWatch(config, log, onChange);
    await w.pollFiles(false);
    const bucket = config.liveUpdates.bucket;
    if (bucket !== null) {
      try {
        w.live = await LiveUpdates.start(nc, bucket, log.child({ stage: 'live' }), onChange);
      } catch (err) {
        if (config.liveUpdates.required) throw err;
        log.warn({ bucket, error: (err as Error).message }, 'live hotlist updates unavailable; historical hits follow the files only');
      }
    }
    if (config.hotlists.length > 0) {
      w.timer = setInterval(() => void w.pollFiles(true), FILE_POLL_MS);
      w.timer.unref();
    }
    return w;
  }

  /** Reloads every file when one changed (a version that failed to load is not tried again). */
  private async pollFiles(notify: boolean): Promise<void> {
    if (this.polling || this.config.hotlists.length === 0) return;
    this.polling = true;
    try {
      const { signature, newest } = await filesSignature(this.config);
      if (signature === this.fileSignature || signature === this.failedSignature) return;
      try {
        // The files' own load lines are the service's to write: only problems here.
        const loaded = await loadSources(this.config.hotlists, this.log.child({ stage: 'hotlist' }, { level: 'warn' }));
        const version = `files@${createHash('sha256').update(signature).digest('hex').slice(0, 12)}`;
        const files: WatchedEntry[] = [];
        // loadSources lists each source's entries in turn: an entry arrived with its file's version.
        let i = 0;
        for (const src of loaded.sources) {
          for (let k = 0; k < src.entries && i < loaded.entries.length; k++, i++) {
            const entry = loaded.entries[i];
            const id = entryIdOf(entry, i);
            files.push({ key: entryKey(entry, id), entryId: id, entry, origin: 'file', arrivedAt: src.refreshedAt || newest, version });
          }
        }
        this.files = files;
        this.fileSignature = signature;
        this.log.info({ entries: this.files.length, version }, 'hotlist files read for historical hits');
        if (notify) this.onChange();
      } catch (err) {
        this.failedSignature = signature;
        this.log.warn({ error: (err as Error).message }, 'hotlist files not loaded for historical hits; the entries read before stay');
      }
    } finally {
      this.polling = false;
    }
  }

  /** The entries in force at `now`: not cancelled, not lapsed, live ones checked. */
  current(now: number): WatchedEntry[] {
    const view = this.live?.view;
    const cancelled = view?.cancelled;
    const out: WatchedEntry[] = [];
    for (const w of this.files) {
      if (cancelled !== undefined && cancelled.size > 0 && cancelled.has(w.entryId)) continue;
      if (lapsed(w.entry, now)) continue;
      out.push(w);
    }
    if (view === undefined) return out;
    for (const id of this.liveCache.keys()) if (!view.entries.has(id)) this.liveCache.delete(id);
    for (const [id, { entry, revision, created }] of view.entries) {
      if (cancelled?.has(id) === true) continue;
      let cached = this.liveCache.get(id);
      if (cached?.revision !== revision) {
        const why = refusalOf(entry);
        if (why !== undefined) {
          if (this.refused.get(id) !== revision) {
            this.refused.set(id, revision);
            this.log.warn({ id, revision, reason: why }, 'live entry left out of historical hits (the service refuses it too)');
          }
          continue;
        }
        const at = lapseTime(entry.expires);
        const e = typeof at === 'number' && entry.expires !== at ? { ...entry, expires: at } : entry;
        cached = { revision, watched: { key: entryKey(e, id), entryId: id, entry: e, origin: 'live', arrivedAt: created, version: `live@${revision}` } };
        this.liveCache.set(id, cached);
      }
      if (lapsed(cached.watched.entry, now)) continue;
      out.push(cached.watched);
    }
    return out;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.live?.stop();
  }
}
