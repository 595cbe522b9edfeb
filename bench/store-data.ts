/**
 * Synthetic stored reads for the records-store benchmark (bench/store.bench.ts): what a
 * statewide camera feed's `store` receives over N days, as `ReadRecord`s with retention tags.
 *
 * - Vehicles: one per 5 reads (10M reads: 2M plates); 85 % California plates (mostly the
 *   7-character `NLLLDDD` series, `fixtures/plate-formats.ts`), the rest a statewide mix.
 * - Repeat traffic: 70 % of reads come from the 20 % of vehicles that commute (a plate is
 *   seen many times a month), the rest from the whole population.
 * - OCR: 4 % of reads misread one character inside its OCR class (8/B, 0/O...), 1 % one
 *   character at random; 15 % carry two OCR candidates (the true plate among them).
 * - Time: reads spread evenly over the window, in arrival order (oldest first), ending `now`.
 * - Retention: policy `default`, non-hit 30 days, hit 365 days; 0.2 % of reads hit.
 *
 * Deterministic for a seed. Generation costs about as much as one JSON.stringify per read.
 * Also the search baselines: the SQL a user would write, and a brute-force scan.
 */
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { createRng, generatePlate, type Rng } from '../fixtures/generator.js';
import { DEFAULT_OCR_CLASSES } from '../matcher/core/plate.js';
import { createMatcher } from '../matcher/index.js';
import type { HotlistEntry, MatchTier, PlateRead, ReadRecord } from '../matcher/types.js';
import { nowMs } from './util.js';

export const DAY_MS = 86_400_000;
export const NONHIT_DAYS = 30;
export const HIT_DAYS = 365;
export const POLICY = 'default';
export const BASIS = 'bench: 30-day non-hit, 365-day hit';

export interface FeedSpec {
  seed: number;
  rows: number;
  days: number;
  /** End of the window (epoch ms); reads fall in [now - days, now). */
  now: number;
  /** Id prefix, so a second feed into the same database never collides. */
  idPrefix?: string;
  /** Share of reads that hit. Default 0.002. */
  hitRate?: number;
}

/** The population of vehicles a feed draws from; shared so query plates can be picked from it. */
export interface Population {
  plates: string[];
  states: string[];
  commuters: number;
}

export function makePopulation(seed: number, vehicles: number): Population {
  const rng = createRng(seed);
  const plates: string[] = new Array<string>(vehicles);
  const states: string[] = new Array<string>(vehicles);
  for (let i = 0; i < vehicles; i++) {
    const p = generatePlate(rng, rng() < 0.85 ? 'CA' : undefined);
    plates[i] = p.plate;
    states[i] = p.state;
  }
  return { plates, states, commuters: Math.max(1, Math.floor(vehicles * 0.2)) };
}

const CLASS_OF = new Map<string, string>();
for (const c of DEFAULT_OCR_CLASSES) for (const ch of c) CLASS_OF.set(ch, c);
const ALNUM = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';

/** One character replaced by another of its OCR class (or, `random`, by any character). */
export function misread(rng: Rng, plate: string, random = false): string {
  const order = Math.floor(rng() * plate.length);
  for (let k = 0; k < plate.length; k++) {
    const i = (order + k) % plate.length;
    const cls = CLASS_OF.get(plate[i]);
    let ch: string;
    if (random) ch = ALNUM[Math.floor(rng() * ALNUM.length)];
    else if (cls !== undefined) ch = cls[Math.floor(rng() * cls.length)];
    else continue;
    if (ch === plate[i]) ch = random ? ALNUM[(ALNUM.indexOf(ch) + 1) % ALNUM.length] : cls![(cls!.indexOf(ch) + 1) % cls!.length];
    return plate.slice(0, i) + ch + plate.slice(i + 1);
  }
  return plate;
}

const AGENCIES = Array.from({ length: 40 }, (_, k) => `CA${String(100 + k * 7).padStart(3, '0')}${String(k).padStart(2, '0')}00`);
const CAMERAS = 2000;

/** A vehicle index: commuters most of the time, anyone otherwise. */
export function pickVehicle(rng: Rng, pop: Population): number {
  return rng() < 0.7 ? Math.floor(rng() * pop.commuters) : Math.floor(rng() * pop.plates.length);
}

/**
 * The feed in arrival order, `chunk` records at a time. Each record is what the service
 * publishes on `records.<class>.<policy>`.
 */
export function* feed(spec: FeedSpec, pop: Population, chunk: number): Generator<ReadRecord[]> {
  const rng = createRng(spec.seed ^ 0x51a7e);
  const span = spec.days * DAY_MS;
  const start = spec.now - span;
  const step = span / spec.rows;
  const hitRate = spec.hitRate ?? 0.002;
  const prefix = spec.idPrefix ?? 'r';
  let out: ReadRecord[] = [];
  for (let i = 0; i < spec.rows; i++) {
    const v = pickVehicle(rng, pop);
    const truth = pop.plates[v];
    const e = rng();
    const plate = e < 0.04 ? misread(rng, truth) : e < 0.05 ? misread(rng, truth, true) : truth;
    const ts = Math.floor(start + i * step + rng() * step);
    const cam = Math.floor(rng() * rng() * CAMERAS); // skewed: a few cameras see most traffic
    const hit = rng() < hitRate;
    const confidence = Math.round((0.6 + rng() * 0.4) * 1000) / 1000;
    const rec: ReadRecord = {
      plate,
      state: rng() < 0.9 ? pop.states[v] : undefined,
      ts,
      cameraId: `CAM-${String(cam + 1).padStart(4, '0')}`,
      agency: AGENCIES[cam % AGENCIES.length],
      confidence,
      lat: Math.round((32.5 + (cam % 97) * 0.09 + rng() * 0.001) * 1e6) / 1e6,
      lon: Math.round((-124 + (cam % 89) * 0.1 + rng() * 0.001) * 1e6) / 1e6,
      heading: Math.floor(rng() * 360),
      imageRef: `s3://alpr-images/${cam + 1}/${ts}.jpg`,
      id: `${prefix}${i.toString(36)}`,
      hit,
      alertIds: hit ? [`a${prefix}${i.toString(36)}`] : [],
      retention: { policy: POLICY, class: hit ? 'hit' : 'nonhit', expiresAt: ts + (hit ? HIT_DAYS : NONHIT_DAYS) * DAY_MS, basis: BASIS },
    };
    if (rec.state === undefined) delete rec.state;
    if (rng() < 0.15) rec.candidates = [{ plate: truth, confidence: confidence - 0.05 }, { plate: misread(rng, truth), confidence: confidence - 0.2 }];
    out.push(rec);
    if (out.length === chunk) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}

/** Search forms the bench times, with their queries drawn from the population. */
export type QueryForm = 'exact' | 'ocr' | 'fuzzy1' | 'fuzzy2' | 'pattern';

/** `n` plates of vehicles seen in the window (commuters and others, as an investigator's list would be). */
export function queryPlates(seed: number, pop: Population, n: number): string[] {
  const rng = createRng(seed ^ 0x9e37);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(pop.plates[pickVehicle(rng, pop)]);
  return out;
}

/**
 * Partial-plate patterns a witness would give, from plates in the population: `AB?12*`-like
 * (known start, one unknown, a known run, open end), `*123` (known end), `[8B]C?45?` (a class,
 * gaps). Patterns of CA 7-character plates, so each matches a realistic number of reads.
 */
export function queryPatterns(seed: number, pop: Population, n: number): string[] {
  const rng = createRng(seed ^ 0x7a11);
  const out: string[] = [];
  while (out.length < n) {
    const p = pop.plates[pickVehicle(rng, pop)];
    if (p.length !== 7) continue;
    const kind = out.length % 3;
    if (kind === 0) out.push(`${p.slice(0, 2)}?${p.slice(3, 5)}*`);
    else if (kind === 1) out.push(`*${p.slice(4)}`);
    else {
      const cls = CLASS_OF.get(p[0]);
      const first = cls !== undefined && cls.length > 1 ? `[${cls.slice(0, 2)}]` : p[0];
      out.push(`${first}${p[1]}?${p.slice(3, 5)}?${p[6]}`);
    }
  }
  return out;
}

/** The p-th percentile (nearest rank). */
export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

export type Form = { name: string; queries: string[]; tiers?: MatchTier[]; maxDistance?: number; pattern?: boolean };

/** SQL a user would write for the form, or undefined. */
export function naiveSql(f: Form, q: string): { sql: string; param: string } | undefined {
  if (f.pattern === true) {
    if (q.includes('[')) return { sql: 'plate_norm ~ $1', param: `^${q.replace(/\?/g, '.').replace(/\*/g, '.*')}$` };
    return { sql: 'plate_norm LIKE $1', param: q.replace(/\?/g, '_').replace(/\*/g, '%') };
  }
  if (f.name === 'exact') return { sql: 'plate_norm = $1', param: q };
  if (f.name.startsWith('fuzzy')) return { sql: `levenshtein(plate_norm, $1) <= ${f.maxDistance}`, param: q };
  return undefined;
}

/** Brute force: every plate in the window streamed out (COPY) and matched in JS with the library matcher. */
export async function brute(pool: pg.Pool, f: Form, q: string, from: number, to: number): Promise<{ ms: number; hits: number; scanned: number }> {
  const entry: HotlistEntry = f.pattern === true
    ? { id: 'q', pattern: q, list: 'BOLO', case: 'BENCH-1', enteredBy: 'bench', purpose: 'FELONY_INVESTIGATION', expires: to + 365 * DAY_MS }
    : { id: 'q', plate: q, list: 'BOLO' };
  const t = nowMs();
  const matcher = createMatcher({ entries: [entry], tiers: f.tiers ?? ['exact'], maxDistance: f.maxDistance ?? 1 });
  const c = await pool.connect();
  let hits = 0;
  let scanned = 0;
  let batch: PlateRead[] = [];
  let rest = '';
  const flush = (): void => {
    hits += matcher.matchBatch(batch).alerts.length;
    scanned += batch.length;
    batch = [];
  };
  try {
    await pipeline(c.query(copyTo(`COPY (SELECT id, plate_norm FROM platesieve.reads WHERE ts >= ${from} AND ts < ${to}) TO STDOUT`)), new Writable({
      write(chunk: Buffer, _enc, cb) {
        const lines = (rest + chunk.toString('latin1')).split('\n');
        rest = lines.pop() ?? '';
        for (const l of lines) {
          const tab = l.indexOf('\t');
          batch.push({ id: l.slice(0, tab), plate: l.slice(tab + 1) });
          if (batch.length === 4096) flush();
        }
        cb();
      },
    }));
    flush();
  } finally {
    c.release();
  }
  return { ms: nowMs() - t, hits, scanned };
}

/** What the search and historical phases ask, drawn from the population before it is let go. */
export interface QuerySets {
  plates: string[];
  patterns: string[];
  historicalPlates: string[];
  absentPlates: number;
}

/**
 * The queries of the later phases. The population (2M vehicles at 10M reads) is dropped after
 * this: every search builds a one-entry matcher (a WebAssembly instance), and about every
 * twelfth one makes V8 collect the whole heap, which with the population in it took about
 * 100 ms and was the p95 of exact and ocr searches (25-30 ms without it).
 */
export function querySets(pop: Population, o: { seed: number; queries: number; historicalPlates: number }): QuerySets {
  const known = new Set(pop.plates);
  const absent = ['QX9Z7Q1', 'ZZ0Q0Q9', '9QXZ7W1', 'XQ1Z9Q7', 'W9QZ0XQ'].filter((p) => !known.has(p));
  return {
    plates: queryPlates(o.seed, pop, o.queries + 1),
    patterns: queryPatterns(o.seed, pop, 3 * (o.queries + 1)),
    historicalPlates: [...queryPlates(o.seed + 9, pop, o.historicalPlates), ...absent],
    absentPlates: absent.length,
  };
}
