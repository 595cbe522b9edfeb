/**
 * Test data for the fault table and the soak: a generated hotlist and a pool of valid reads,
 * each sent read made unique (its own id and its own camera, so no hit repeats an entry and a
 * camera inside the suppression window and the expected alerts are exactly `platesieve
 * match`'s), and those expected alerts from the offline CLI.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { generateHotlist, generateReads } from '../fixtures/generator.js';
import { writeHotlistCsv } from '../fixtures/files.js';
import { normalizePlate } from '../matcher/core/plate.js';
import type { HotlistEntry, PlateRead } from '../matcher/types.js';
import { ROOT, cliPath } from './frozen-build.js';

/** A hotlist on disk and the reads a run sends are made from. */
export interface TestData {
  hotlistFile: string;
  entries: HotlistEntry[];
  /** Valid reads (plates that normalize), templates of the reads sent. */
  pool: PlateRead[];
}

/** A hotlist of `entries` entries and a pool of valid reads, `hitRate` of them of hotlisted vehicles. */
export async function makeData(dir: string, opts: { entries: number; poolSize: number; hitRate: number; seed: number }): Promise<TestData> {
  const entries = generateHotlist({ seed: opts.seed, size: opts.entries });
  const hotlistFile = path.join(dir, 'hotlist.csv');
  await writeHotlistCsv(hotlistFile, entries);
  const { reads } = generateReads({ seed: opts.seed + 1, count: Math.ceil(opts.poolSize * 1.2), hotlist: entries, hitRate: opts.hitRate });
  const pool = reads.filter((r) => normalizePlate(r.plate).ok).slice(0, opts.poolSize);
  return { hotlistFile, entries, pool };
}

/** Read `n` of a run: the pool's read `n % pool`, with its own id, camera and the send time. */
export function readAt(pool: readonly PlateRead[], n: number, ts: number): PlateRead {
  const t = pool[n % pool.length];
  const read: PlateRead = { id: readId(n), plate: t.plate, ts, cameraId: `C${n}` };
  if (t.state !== undefined) read.state = t.state;
  if (t.agency !== undefined) read.agency = t.agency;
  if (t.confidence !== undefined) read.confidence = t.confidence;
  return read;
}

/** The id of read `n` of a run: `R` and `n` in 10 digits. */
export function readId(n: number): string {
  return `R${String(n).padStart(10, '0')}`;
}

/** The sequence number of a read id made by {@link readId}; -1 for any other id. */
export function readSeq(id: string): number {
  return id.length === 11 && id.charCodeAt(0) === 0x52 ? Number(id.slice(1)) : -1;
}

/** Alerts of `platesieve match` (the offline CLI) on an NDJSON reads file: `readId` and `entryId` of each. */
export function offlineAlerts(hotlistFile: string, readsFile: string): Array<{ readId: string; entryId: string }> {
  const res = spawnSync(process.execPath, [cliPath(), 'match', '--hotlist', hotlistFile, '--input', readsFile], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024 });
  if (res.error !== undefined) throw res.error;
  if (res.status !== 0) throw new Error(`platesieve match exited ${String(res.status)}: ${res.stderr.slice(-2000)}`);
  return res.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const a = JSON.parse(l) as { readId: string; entryId: string };
      return { readId: a.readId, entryId: a.entryId };
    });
}
