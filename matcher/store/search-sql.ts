/**
 * The SQL half of the retrospective search (search.ts): from a query, the statement that lists
 * a guaranteed superset of the stored reads the matcher could match, using the indexes of
 * schema.ts. Nothing here decides a match: search.ts verifies every candidate with the library
 * matcher. Every condition below is therefore only ever allowed to be looser than the matcher;
 * the argument that it is, for each form, is in the comment of the function that builds it.
 *
 * Keys. `plate_key` and `cand_keys` hold the stored plates (and OCR candidates) normalized and
 * collapsed: every character replaced by the first of its OCR class. The matcher's exact and ocr
 * tiers match only when the collapsed keys are equal; its fuzzy tier computes the Levenshtein
 * distance (no transpositions: core-wasm/assembly/distance.ts) of the collapsed keys; a pattern
 * is matched character by character against the normalized plate (a literal also accepting its
 * OCR class with `partialOcr`), so the collapsed key matches the pattern with every literal and
 * set collapsed too. A key holds only `A-Z0-9` (rows.ts drops anything else even from a plate
 * that does not normalize), and a valid plate's key only class representatives.
 */
import { MAX_PLATE_LENGTH } from '../core/plate.js';
import type { PatternToken } from '../core/patterns.js';
import { SCHEMA } from './schema.js';

const S = SCHEMA;

/** Any character of a key, as a regex class: trigram-friendly, unlike `.` (see pigeonholeRegex). */
const KEY_CHAR = '[0-9A-Z]';

/** Candidates enumerated for a pattern at most; beyond, the candidate arm scans the window. */
export const MAX_PATTERN_KEYS = 1024;

/** The characters a valid plate's key can hold: A-Z0-9 with each OCR class reduced to its first. */
export function keyAlphabet(classMap: ReadonlyMap<string, string>): string {
  const out = new Set<string>();
  for (const c of '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ') out.add(classMap.get(c) ?? c);
  return [...out].join('');
}

/**
 * Every key of 1 to 10 characters over `alphabet` within Levenshtein distance `d` of `key`
 * (itself included): substitutions, deletions and insertions, applied d times. A stored key
 * within distance d of the query is one of these, since every valid key is over the alphabet
 * and at most 10 characters long.
 */
export function neighbours(key: string, d: number, alphabet: string): string[] {
  const all = new Set([key]);
  let frontier = [key];
  for (let step = 0; step < d; step++) {
    const next: string[] = [];
    const add = (k: string): void => {
      if (k.length === 0 || k.length > MAX_PLATE_LENGTH || all.has(k)) return;
      all.add(k);
      next.push(k);
    };
    for (const k of frontier) {
      for (let i = 0; i <= k.length; i++) {
        const head = k.slice(0, i);
        if (i < k.length) {
          const tail = k.slice(i + 1);
          add(head + tail);
          for (const c of alphabet) if (c !== k[i]) add(head + c + tail);
        }
        for (const c of alphabet) add(head + c + k.slice(i));
      }
    }
    frontier = next;
  }
  return [...all];
}

/**
 * A regex, usable by the trigram index, that every key within Levenshtein distance `d` of `key`
 * matches, from one cut of `key` into d + 1 consecutive pieces of the given lengths (each at
 * least 2 characters).
 *
 * Why it is a superset (pigeonhole): take an optimal alignment of `key` with a key X at distance
 * <= d and charge each edit to a piece: a substitution or deletion to the piece of its
 * character, an insertion strictly inside a piece to that piece, an insertion before the first
 * character to the first piece (one between two pieces or after the last character to none).
 * At most d edits, d + 1 pieces: one piece is charged nothing, so it appears in X unchanged,
 * and if it is the first, at the start of X. Each alternative below matches every X in which
 * its piece so appears:
 * - first piece P: `^P` (its trigrams "  p", " p1", ... make it indexable from 2 characters);
 * - another piece of 3 or more characters: `P` anywhere;
 * - another piece of 2 characters: `[c]P|P[c]`, a character of X before or after it (the last
 *   piece: before it); X has at least length(key) - d >= 3 characters, so one exists. Written
 *   so (not `P` alone, which has no trigram) the index can serve it.
 */
export function pigeonholeRegex(key: string, lengths: readonly number[]): string {
  const parts: string[] = [];
  let at = 0;
  for (let i = 0; i < lengths.length; i++) {
    const p = key.slice(at, at + lengths[i]);
    at += lengths[i];
    if (i === 0) parts.push(`^${p}`);
    else if (p.length >= 3) parts.push(p);
    else if (i === lengths.length - 1) parts.push(`${KEY_CHAR}${p}`);
    else parts.push(`${KEY_CHAR}${p}|${p}${KEY_CHAR}`);
  }
  return parts.join('|');
}

/**
 * Up to `max` pigeonhole regexes of `key` at distance `d` ({@link pigeonholeRegex}), from its
 * most even cuts: each alone is a superset, so a key within distance d matches them all, and
 * requiring all of them (in one trigram index scan) leaves far fewer false candidates than one
 * (measured: d=2 on a 7-character plate over 1M reads, about 4 times fewer heap rows). Empty
 * when `key` is too short to cut into pieces of 2 (or X could have fewer than 3 characters).
 */
export function pigeonholeRegexes(key: string, d: number, max = 3): string[] {
  const n = d + 1;
  if (key.length < 2 * n || key.length - d < 3) return [];
  const cuts: number[][] = [];
  const walk = (prefix: number[], left: number): void => {
    if (prefix.length === n - 1) {
      if (left >= 2) cuts.push([...prefix, left]);
      return;
    }
    for (let len = 2; len <= left - 2 * (n - 1 - prefix.length); len++) walk([...prefix, len], left - len);
  };
  walk([], key.length);
  const spread = (c: number[]): number => Math.max(...c) - Math.min(...c);
  cuts.sort((a, b) => spread(a) - spread(b));
  return cuts.slice(0, max).map((c) => pigeonholeRegex(key, c));
}

/**
 * The regex a pattern's candidates' keys match: anchored, each literal and set collapsed, `?`
 * one key character, `*` any run. A plate the matcher's pattern accepts has, at each position,
 * a character the token accepts (a literal: itself, or with `partialOcr` one of its class; a
 * set: one of its members); its key there holds that character's representative, which the
 * collapsed token accepts. So the key matches, whether `partialOcr` is on or off.
 */
export function patternRegex(tokens: readonly PatternToken[], classMap: ReadonlyMap<string, string>): string {
  let re = '^';
  for (const t of tokens) {
    if (t.kind === 'star') re += `${KEY_CHAR}*`;
    else if (t.kind === 'any') re += KEY_CHAR;
    else if (t.kind === 'literal') re += classMap.get(t.char) ?? t.char;
    else {
      const set = [...new Set([...t.chars].map((c) => classMap.get(c) ?? c))].sort().join('');
      re += set.length === 1 ? set : `[${set}]`;
    }
  }
  return `${re}$`;
}

/**
 * Every valid key a pattern without `*` can match (the collapsed choices of each position over
 * the key alphabet), or undefined when there are more than `cap` or the pattern has a `*`.
 */
export function patternKeys(tokens: readonly PatternToken[], classMap: ReadonlyMap<string, string>, alphabet: string, cap = MAX_PATTERN_KEYS): string[] | undefined {
  let keys = [''];
  for (const t of tokens) {
    if (t.kind === 'star') return undefined;
    const choices = t.kind === 'any' ? [...alphabet] : t.kind === 'literal' ? [classMap.get(t.char) ?? t.char] : [...new Set([...t.chars].map((c) => classMap.get(c) ?? c))];
    if (keys.length * choices.length > cap) return undefined;
    keys = keys.flatMap((k) => choices.map((c) => k + c));
  }
  return keys;
}

/** How the rows of reads whose plate (or one of whose candidates) may match are found. */
export type KeyCondition =
  /** Collapsed keys equal to `key` (exact and ocr tiers, fuzzy at distance 0). */
  | { kind: 'equal'; key: string }
  /** Levenshtein distance of the collapsed keys at most `d` (1 or 2): the fuzzy tier. */
  | { kind: 'fuzzy'; key: string; d: number; alphabet: string }
  /** A partial pattern: the key regex, and its keys when few enough to enumerate. */
  | { kind: 'pattern'; regex: string; keys?: string[] };

/** The filters every candidate passes, besides its key. */
export interface RowFilter {
  from: number;
  to: number;
  now: number;
  cameraId?: string;
  /**
   * The expiry days (partitions) whose reads' read times can meet the window
   * (PARTITION_DAYS_SQL): named in the statement, the planner plans only those partitions.
   * Absent: every partition.
   */
  days?: string[];
  /**
   * The entry's normalized state when the state rule can reject a read (stateMismatch
   * 'reject', or a pattern, which never matches another state): reads of a state plainly
   * different are left out in SQL.
   */
  rejectState?: string;
}

/** One arm of the candidate statement: `src` 'r' (reads) or 'e' (evidence). */
export interface CandidateStatement {
  sql: string;
  params: unknown[];
  /** What each arm does, for tests and EXPLAIN: 'trigram', 'btree', 'probe', 'gin', 'scan'. */
  plan: string[];
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();

class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

/**
 * The state rule in SQL, looser than the matcher: a read is kept unless its state is plainly
 * another state. The matcher (StateCodes) compares the trimmed, upper-cased read state with the
 * entry's; empty or absent is compatible. Here: absent, anything but plain ASCII letters and
 * digits (left to the matcher: its trim and Unicode upper-casing are not redone in SQL), or
 * ASCII-upper-cased equal to the entry's state (translate, not upper(): no locale involved).
 */
function statePredicate(column: string, state: string, p: Params): string {
  return `(${column} IS NULL OR ${column} !~ '^[A-Za-z0-9]+$' OR translate(${column}, '${LOWER}', '${UPPER}') = ${p.add(state)})`;
}

/** Window, expiry, camera and state conditions of the reads table (alias r). */
function readsFilter(f: RowFilter, p: Params, today: string): string {
  const parts = [`r.ts BETWEEN ${p.add(f.from)} AND ${p.add(f.to)}`, `r.expires_at > ${p.add(f.now)}`, `r.expires_day >= ${p.add(today)}::date`];
  if (f.days !== undefined) parts.push(daysPredicate('r.expires_day', f.days, (v) => p.add(v)));
  if (f.cameraId !== undefined) parts.push(`r.camera_id = ${p.add(f.cameraId)}`);
  if (f.rejectState !== undefined) parts.push(statePredicate('r.state', f.rejectState, p));
  return parts.join(' AND ');
}

const READ_COLS = `'r' AS src, r.id, r.expires_day::text AS k, r.ts`;
/** The same with the stored record: an equal-key search reads it in the statement that finds the row (search.ts). */
const READ_COLS_RECORD = `${READ_COLS}, r.record`;

/**
 * The optional index on the candidates' keys as one text (not in schema.ts yet; search.ts uses
 * it when it is there, see {@link CAND_TEXT_PROBE}):
 *   CREATE FUNCTION platesieve.cand_text(text[]) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
 *     AS $$ SELECT array_to_string($1, ' ') $$;
 *   CREATE INDEX reads_cand_trgm ON platesieve.reads USING gin (platesieve.cand_text(cand_keys) gin_trgm_ops)
 *     WHERE cand_keys IS NOT NULL;
 * pg_trgm treats the spaces as word breaks, so each key is a word of its own.
 */
export const CAND_TEXT = `${S}.cand_text`;

/** True when the reads table has the trigram index on {@link CAND_TEXT}. */
export const CAND_TEXT_PROBE = `SELECT EXISTS (
  SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = '${S}' AND c.relname = 'reads' AND pg_get_indexdef(i.indexrelid) LIKE '%cand_text(cand_keys) gin_trgm_ops%'
) AS ok`;

/**
 * The regexes of {@link pigeonholeRegexes} or {@link patternRegex} over the candidates' keys
 * joined by spaces: a piece anchored at the start of a key is matched after the start or a
 * space, a whole pattern between start-or-space and space-or-end; a key character class never
 * matches the space, so no match spans two keys. Empty when the key is too short to cut.
 */
function candTextRegexes(cond: KeyCondition): string[] {
  if (cond.kind === 'equal') return [];
  if (cond.kind === 'pattern') return [`(^| )${cond.regex.slice(1, -1)}( |$)`];
  return pigeonholeRegexes(cond.key, cond.d).map((re) => re.split('|').map((part) => (part.startsWith('^') ? `(^| )${part.slice(1)}` : part)).join('|'));
}

/**
 * The candidate statement: a UNION ALL of arms, each (src, id, k, ts) where k is the row's
 * second key (expires_day for reads, hold_id for evidence), and `record` with `records`. Ids
 * may repeat across arms.
 */
export function candidateStatement(cond: KeyCondition, f: RowFilter, today: string, options: { candText?: boolean; records?: boolean } = {}): CandidateStatement {
  const p = new Params();
  const cols = options.records === true ? READ_COLS_RECORD : READ_COLS;
  const arms: string[] = [];
  const plan: string[] = [];
  const reads = `${S}.reads r`;
  const filter = (): string => readsFilter(f, p, today);
  const scanPlate = (c: KeyCondition): string => {
    if (c.kind === 'equal') return `r.plate_key = ${p.add(c.key)}`;
    if (c.kind === 'fuzzy') return `levenshtein_less_equal(r.plate_key, ${p.add(c.key)}, ${c.d}) <= ${c.d}`;
    return `r.plate_key ~ ${p.add(c.regex)}`;
  };
  const scanCands = (c: KeyCondition): string => {
    if (c.kind === 'equal') return `r.cand_keys @> ARRAY[${p.add(c.key)}]::text[]`;
    const test = c.kind === 'fuzzy' ? `levenshtein_less_equal(c, ${p.add(c.key)}, ${c.d}) <= ${c.d}` : `c ~ ${p.add(c.regex)}`;
    return `(r.cand_keys IS NOT NULL AND EXISTS (SELECT 1 FROM unnest(r.cand_keys) AS c WHERE ${test}))`;
  };
  // Probing the btree (plate_key) or the GIN (cand_keys) once per key of a small key set.
  const probe = (column: 'plate' | 'cand', keys: string[]): string => {
    const on = column === 'plate' ? 'r.plate_key = q.k' : 'r.cand_keys @> ARRAY[q.k]';
    return `SELECT ${cols} FROM unnest(${p.add(keys)}::text[]) AS q(k) JOIN ${reads} ON ${on} WHERE ${filter()}`;
  };

  // Plates.
  let plateScan = false;
  if (cond.kind === 'equal') {
    // Plate and candidates in one arm (a BitmapOr of the btree and the GIN in each partition):
    // every partition is planned once instead of twice, about 4 ms instead of 6 at 62
    // partitions, and a read is returned once even when its plate and a candidate both match.
    const key = p.add(cond.key);
    arms.push(`SELECT ${cols} FROM ${reads} WHERE (r.plate_key = ${key} OR r.cand_keys @> ARRAY[${key}]::text[]) AND ${filter()}`);
    plan.push('plate and candidates: btree or gin');
  } else if (cond.kind === 'fuzzy') {
    const res = pigeonholeRegexes(cond.key, cond.d);
    if (res.length > 0) {
      arms.push(`SELECT ${cols} FROM ${reads} WHERE ${res.map((re) => `r.plate_key ~ ${p.add(re)}`).join(' AND ')} AND ${scanPlate(cond)} AND ${filter()}`);
      plan.push('plate: trigram');
    } else if (cond.d === 1) {
      arms.push(probe('plate', neighbours(cond.key, 1, cond.alphabet)));
      plan.push('plate: btree probes');
    } else plateScan = true;
  } else {
    arms.push(`SELECT ${cols} FROM ${reads} WHERE ${scanPlate(cond)} AND ${filter()}`);
    plan.push('plate: trigram');
  }

  // OCR candidates.
  const text = options.candText === true ? candTextRegexes(cond) : [];
  if (cond.kind === 'equal') {
    // Done with the plates above.
  } else if (text.length > 0) {
    const ct = text.map((re) => `${CAND_TEXT}(r.cand_keys) ~ ${p.add(re)}`).join(' AND ');
    arms.push(`SELECT ${cols} FROM ${reads} WHERE r.cand_keys IS NOT NULL AND ${ct} AND ${scanCands(cond)} AND ${filter()}`);
    plan.push('candidates: trigram');
  } else if (cond.kind === 'fuzzy' && cond.d === 1) {
    arms.push(probe('cand', neighbours(cond.key, 1, cond.alphabet)));
    plan.push('candidates: gin probes');
  } else if (cond.kind === 'pattern' && cond.keys !== undefined) {
    arms.push(probe('cand', cond.keys));
    plan.push('candidates: gin probes');
  } else if (plateScan) {
    // Both by one pass over the window.
    arms.push(`SELECT ${cols} FROM ${reads} WHERE (${scanPlate(cond)} OR ${scanCands(cond)}) AND ${filter()}`);
    plan.push('plate and candidates: scan');
  } else {
    arms.push(`SELECT ${cols} FROM ${reads} WHERE ${scanCands(cond)} AND ${filter()}`);
    plan.push('candidates: scan');
  }

  // Evidence: copies of held records, whatever their expiry; few rows, no key index needed. Its
  // rows carry no candidate keys: any with candidates is left to the matcher.
  const ev: string[] = [`e.ts BETWEEN ${p.add(f.from)} AND ${p.add(f.to)}`];
  if (f.cameraId !== undefined) ev.push(`e.record->>'cameraId' = ${p.add(f.cameraId)}`);
  if (f.rejectState !== undefined) ev.push(statePredicate(`(e.record->>'state')`, f.rejectState, p));
  const evKey = cond.kind === 'equal'
    ? `e.plate_key = ${p.add(cond.key)}`
    : cond.kind === 'fuzzy'
      ? `levenshtein_less_equal(e.plate_key, ${p.add(cond.key)}, ${cond.d}) <= ${cond.d}`
      : `e.plate_key ~ ${p.add(cond.regex)}`;
  ev.push(`(${evKey} OR json_typeof(e.record->'candidates') = 'array')`);
  arms.push(`SELECT 'e' AS src, e.read_id AS id, e.hold_id AS k, e.ts${options.records === true ? ', e.record' : ''} FROM ${S}.evidence e WHERE ${ev.join(' AND ')}`);
  plan.push('evidence: scan');

  return { sql: arms.join('\nUNION ALL\n'), params: p.values, plan };
}

/**
 * The expiry days whose reads can have read times in [$1, $2]: the partitions whose bounds
 * (`partition_ts`, kept by StoreWriter in the transaction that stores the reads) meet the
 * window. Read in the search's snapshot, so every read it can see is inside its partition's
 * bounds there.
 */
export const PARTITION_DAYS_SQL = `SELECT day::text AS day FROM ${S}.partition_ts WHERE tbl = 'reads' AND min_ts <= $2 AND max_ts >= $1`;

/** Sorted distinct days (YYYY-MM-DD) as runs of consecutive days, [first, last] each. */
export function dayRuns(days: readonly string[]): Array<[string, string]> {
  const sorted = [...new Set(days)].sort();
  const runs: Array<[string, string]> = [];
  for (const d of sorted) {
    const last = runs[runs.length - 1];
    if (last !== undefined && Date.parse(`${d}T00:00:00Z`) - Date.parse(`${last[1]}T00:00:00Z`) === 86_400_000) last[1] = d;
    else runs.push([d, d]);
  }
  return runs;
}

/**
 * `column` within the given days, as ranges of consecutive days: the planner prunes the
 * partitions outside them. Ranges, not `= ANY(days)`: pruning an array of 62 days doubled the
 * planning time of an exact search (12.6 ms instead of 6.1), while the days of a window are a
 * few runs (one per retention period). No days: nothing.
 */
export function daysPredicate(column: string, days: readonly string[], add: (v: unknown) => string): string {
  const runs = dayRuns(days);
  if (runs.length === 0) return 'false';
  return `(${runs.map(([a, b]) => (a === b ? `${column} = ${add(a)}::date` : `${column} BETWEEN ${add(a)}::date AND ${add(b)}::date`)).join(' OR ')})`;
}

/** Records of reads rows by primary key (id, expires_day), in the partitions of their days only (planned for those alone). */
export function readRecordsStatement(ids: readonly string[], days: readonly string[]): { sql: string; params: unknown[] } {
  const params: unknown[] = [ids, days];
  const add = (v: unknown): string => `$${params.push(v)}`;
  return {
    sql: `SELECT r.id, r.expires_day::text AS k, r.record FROM ${S}.reads r WHERE (r.id, r.expires_day) IN (SELECT * FROM unnest($1::text[], $2::date[])) AND ${daysPredicate('r.expires_day', days, add)}`,
    params,
  };
}

/** Records of evidence rows by primary key (hold_id, read_id). */
export const EVIDENCE_RECORDS_SQL = `SELECT e.read_id AS id, e.hold_id AS k, e.record FROM ${S}.evidence e WHERE (e.hold_id, e.read_id) IN (SELECT * FROM unnest($2::text[], $1::text[]))`;
