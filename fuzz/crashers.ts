/**
 * Crasher files: one JSON file per failing case, with what is needed to replay it (the
 * seed and index that generate it, and its bytes, base64). test/unit/fuzz-sample.test.ts
 * replays every file in test/fuzz-crashers/ as a regression test.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Failure, FuzzCase } from './types.js';

/** A crasher file's contents. */
export interface Crasher {
  target: string;
  kind: Failure['kind'];
  seed: number;
  index: number;
  message: string;
  ms: number;
  /** The case's bytes, base64. */
  data: string;
  parts?: number[];
  opt?: number;
  /** Fixed: the case must now run clean (kept as a regression test). */
  note?: string;
}

/** Writes `f` to `dir`; returns the file's path. */
export function writeCrasher(dir: string, f: Failure): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${f.target}-${f.kind}-seed${f.seed}-case${f.index}.json`);
  const c: Crasher = {
    target: f.target, kind: f.kind, seed: f.seed, index: f.index, message: f.message.slice(0, 2000), ms: Math.round(f.ms),
    data: Buffer.from(f.case.data).toString('base64'),
  };
  if (f.case.parts !== undefined && f.case.parts.length > 0) c.parts = f.case.parts;
  if (f.case.opt !== undefined) c.opt = f.case.opt;
  writeFileSync(file, `${JSON.stringify(c, null, 2)}\n`);
  return file;
}

/** Reads a crasher file. */
export function readCrasher(file: string): Crasher {
  return JSON.parse(readFileSync(file, 'utf8')) as Crasher;
}

/** The case a crasher holds. */
export function caseOfCrasher(c: Crasher): FuzzCase {
  const out: FuzzCase = { data: new Uint8Array(Buffer.from(c.data, 'base64')) };
  if (c.parts !== undefined) out.parts = c.parts;
  if (c.opt !== undefined) out.opt = c.opt;
  return out;
}

/** The crasher files of a folder (none when it does not exist). */
export function crasherFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, f));
  } catch {
    return [];
  }
}
