/**
 * Loading the configured hotlist sources into one entry list, with each source's refresh
 * time (the file's modification time: when its extract was written) for `hotlistAgeS`,
 * health and the stale flag.
 */
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { HotlistEntry } from '../types.js';
import { loadHotlistFile } from '../hotlist/index.js';
import type { HotlistSourceConfig } from './config.js';

export interface LoadedSource {
  source: string;
  file: string;
  entries: number;
  rejected: number;
  refreshedAt: number;
  maxAgeS: number;
  /** Sources named by the file's rows (its own source for rows naming none). */
  rowSources: string[];
}

export interface LoadedHotlists {
  entries: HotlistEntry[];
  sources: LoadedSource[];
}

export async function loadSources(configs: readonly HotlistSourceConfig[], logger: Logger): Promise<LoadedHotlists> {
  const entries: HotlistEntry[] = [];
  const sources: LoadedSource[] = [];
  for (const cfg of configs) {
    const result = await loadHotlistFile(cfg.file, {
      defaultSource: cfg.source,
      defaultList: cfg.defaultList,
      defaultPriority: cfg.defaultPriority,
      format: cfg.format,
      layout: cfg.layout,
      columns: cfg.columns,
      delimiter: cfg.delimiter,
      hasHeader: cfg.hasHeader,
      codes: cfg.codes,
      maxInvalidFraction: cfg.maxInvalidFraction,
    });
    const { mtimeMs } = await stat(cfg.file);
    const rowSources = new Set<string>();
    for (const e of result.entries) {
      e.source ??= cfg.source;
      rowSources.add(e.source);
      entries.push(e);
    }
    for (const r of result.rejected.slice(0, 20)) {
      logger.warn({ source: cfg.source, file: r.file, line: r.line, code: r.code }, `hotlist row rejected: ${r.reason}`);
    }
    if (result.rejected.length > 20) logger.warn({ file: cfg.file, more: result.rejected.length - 20 }, 'more hotlist rows rejected');
    // Loaded, but likely wrong (a list type typo, a state that never matches): same cap as rejections.
    for (const w of result.warnings.slice(0, 20)) {
      logger.warn({ source: cfg.source, file: w.file, line: w.line, code: w.code }, `hotlist entry warning: ${w.reason}`);
    }
    if (result.warningCount > 20) logger.warn({ file: cfg.file, more: result.warningCount - 20 }, 'more hotlist entry warnings');
    logger.info({
      source: cfg.source, file: cfg.file, entries: result.entries.length, rejected: result.rejected.length, junk: result.junk,
      expired: result.expired, warnings: result.warningCount,
    }, 'hotlist loaded');
    sources.push({
      source: cfg.source,
      file: cfg.file,
      entries: result.entries.length,
      rejected: result.rejected.length,
      refreshedAt: mtimeMs,
      maxAgeS: cfg.maxAgeHours * 3600,
      rowSources: [...rowSources],
    });
  }
  return { entries, sources };
}
