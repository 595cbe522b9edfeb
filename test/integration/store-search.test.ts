/**
 * Retrospective search on a real PostgreSQL: searchReads returns exactly what a brute-force
 * scan returns, the library matcher run in JS over every stored row (same entry, tiers, OCR
 * classes, distance, pattern syntax and state rule; window, camera and expiry applied by hand;
 * evidence copies included whatever their expiry, once per read). Plates are drawn near each
 * other (OCR-confusable characters, one or two edits, short and long) so that every tier and
 * distance hits often; the property runs over plate and pattern queries, with and without the
 * optional trigram index on the candidates' keys (search-sql.ts CAND_TEXT).
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMatcher } from '../../matcher/matcher.js';
import { DEFAULT_OCR_CLASSES, ocrClassMap, collapsePlate } from '../../matcher/core/plate.js';
import { readRow, type ReadRow } from '../../matcher/store/rows.js';
import { migrate } from '../../matcher/store/schema.js';
import { searchReads, SearchError, type SearchQuery, type SearchSettings } from '../../matcher/store/search.js';
import { keyAlphabet, neighbours, pigeonholeRegexes } from '../../matcher/store/search-sql.js';
import { StoreWriter } from '../../matcher/store/writer.js';
import type { HotlistEntry, MatchTier, ReadRecord } from '../../matcher/types.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { mulberry32 as rng } from '../helpers/random.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-05-01T00:00:00Z');
const NOW = T0 + 20 * DAY;
const CLASSES = DEFAULT_OCR_CLASSES;
const classMap = ocrClassMap(CLASSES);
const RUNS = Number(process.env.SEARCH_RUNS ?? 60);

const r = rng(20261130);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

// Few letters besides the confusable ones: collisions, OCR confusions and near misses are common.
const CHARS = 'A7K3X0ODQ1IL2Z5S8B6G';
const CLASS_OF = new Map<string, string>();
for (const c of CLASSES) for (const ch of c) CLASS_OF.set(ch, c);

/** One random edit: an OCR confusion (within the class), a substitution, an insertion or a deletion. */
function edit(p: string): string {
  const i = Math.floor(r() * p.length);
  const k = r();
  if (k < 0.4) {
    const cls = CLASS_OF.get(p[i]);
    return cls === undefined ? p : p.slice(0, i) + pick([...cls]) + p.slice(i + 1);
  }
  if (k < 0.65) return p.slice(0, i) + pick([...CHARS]) + p.slice(i + 1);
  if (k < 0.85 && p.length < 10) return p.slice(0, i) + pick([...CHARS]) + p.slice(i);
  return p.length > 1 ? p.slice(0, i) + p.slice(i + 1) : p;
}
function near(p: string): string {
  let out = p;
  const n = r() < 0.3 ? 0 : r() < 0.6 ? 1 : 2;
  for (let i = 0; i < n; i++) out = edit(out);
  return out;
}
function randomPlate(min: number, max: number): string {
  const len = min + Math.floor(r() * (max - min + 1));
  let s = '';
  for (let i = 0; i < len; i++) s += pick([...CHARS]);
  return s;
}

const BASES = [
  ...Array.from({ length: 7 }, () => randomPlate(6, 8)),
  ...Array.from({ length: 3 }, () => randomPlate(4, 5)),
  ...Array.from({ length: 2 }, () => randomPlate(2, 3)),
  '7ABC123', 'Z8I0S5',
];
const READ_STATES = ['CA', 'CA', 'NV', 'ca', ' CA ', '', 'Cá', undefined, undefined];
const CAMERAS = ['CAM-1', 'CAM-2', 'CAM-3', undefined];

/** Formats a normalized plate as a camera might (lower case, separators). */
function raw(p: string): string {
  const k = r();
  if (k < 0.1) return p.toLowerCase();
  if (k < 0.2 && p.length > 3) return `${p.slice(0, 3)}-${p.slice(3)}`;
  return p;
}

function makeRecords(n: number): ReadRecord[] {
  const out: ReadRecord[] = [];
  for (let i = 0; i < n; i++) {
    const base = pick(BASES);
    let plate = raw(near(base));
    if (i % 97 === 0) plate = 'AB#12'; // does not normalize: never matches
    if (i % 89 === 0) plate = `${base}XXXXXXXXXX`; // too long
    const ts = T0 + Math.floor(r() * 10 * DAY);
    const expired = r() < 0.15;
    const expiresAt = expired ? NOW - Math.floor(r() * 5 * DAY) : NOW + 1 + Math.floor(r() * 30 * DAY);
    const rec: ReadRecord = {
      id: `r${i.toString(36).padStart(4, '0')}`, plate, ts, hit: false, alertIds: [], agency: 'CO0010000',
      retention: { policy: 'default', class: 'nonhit', expiresAt, basis: 'test' },
    };
    const state = pick(READ_STATES);
    if (state !== undefined) rec.state = state;
    const cam = pick(CAMERAS);
    if (cam !== undefined) rec.cameraId = cam;
    if (r() < 0.8) rec.confidence = Math.round((0.5 + r() * 0.5) * 1000) / 1000;
    if (r() < 0.35) {
      rec.candidates = Array.from({ length: 1 + Math.floor(r() * 2) }, () => (r() < 0.1 ? { plate: 'Q!' } : { plate: raw(near(r() < 0.7 ? base : pick(BASES))), ...(r() < 0.5 ? { confidence: Math.round(r() * 1000) / 1000 } : {}) }));
    }
    out.push(rec);
  }
  return out;
}

let db: TestDatabase;
let pool: pg.Pool;
const records = makeRecords(2500);
const rows = new Map<string, ReadRow>();
/** Read ids held as evidence (some expired, some in two holds). */
const held = new Set<string>();

beforeAll(async () => {
  db = await createTestDatabase('search');
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const client = await pool.connect();
  try {
    await migrate(client);
  } finally {
    client.release();
  }
  const none = new Map<string, number>();
  for (const rec of records) rows.set(rec.id, readRow(rec, classMap, none));
  await new StoreWriter(pool).write({ reads: [...rows.values()], alerts: [], deadletters: [] });
  await pool.query(`INSERT INTO platesieve.holds (hold_id, case_no, purpose, reason, created_by) VALUES ('h1', '26-1', 'ROBBERY', 'test', 't'), ('h2', '26-2', 'ROBBERY', 'test', 't')`);
  const ev: Array<[string, ReadRow]> = [];
  for (const row of rows.values()) {
    if (r() < 0.08) {
      ev.push(['h1', row]);
      if (r() < 0.3) ev.push(['h2', row]);
      held.add(row.id);
    }
  }
  // An evidence copy of a read whose row is gone (its partition dropped).
  const gone = readRow({ id: 'gone-1', plate: BASES[0], ts: T0 + DAY, hit: false, alertIds: [], cameraId: 'CAM-1', retention: { policy: 'default', class: 'nonhit', expiresAt: T0 + 2 * DAY, basis: 'test' } }, classMap, none);
  ev.push(['h1', gone]);
  held.add('gone-1');
  rows.set('gone-1', gone);
  await pool.query(
    `INSERT INTO platesieve.evidence (hold_id, read_id, ts, plate_norm, plate_key, record) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::json[])`,
    [ev.map((e) => e[0]), ev.map((e) => e[1].id), ev.map((e) => e[1].ts), ev.map((e) => e[1].plateNorm), ev.map((e) => e[1].plateKey), ev.map((e) => e[1].json)],
  );
  await pool.query('ANALYZE');
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

type Row = [id: string, match: string, score: number, distance: number, matchedPlate: string];

/** The brute force: the library matcher over every stored row that the window, camera and expiry let through. */
function bruteForce(q: SearchQuery, s: SearchSettings): Row[] {
  const entry: HotlistEntry = q.plate !== undefined
    ? { plate: q.plate, list: 'X' }
    : { pattern: q.pattern, list: 'X', case: 'C-1', enteredBy: 't', purpose: 'ROBBERY', expires: NOW + DAY };
  if (q.state !== undefined) entry.state = q.state;
  const m = createMatcher({ entries: [entry], tiers: q.tiers ?? ['exact', 'ocr'], maxDistance: q.maxDistance ?? 1, ocrClasses: s.ocrClasses, stateMismatch: s.stateMismatch, partialOcr: s.partialOcr });
  const visible = [...rows.values()].filter((row) => {
    const rec = JSON.parse(row.json) as ReadRecord;
    if (row.ts < q.from || row.ts > q.to) return false;
    if (q.cameraId !== undefined && rec.cameraId !== q.cameraId) return false;
    return held.has(row.id) || (row.id !== 'gone-1' && row.expiresAt > NOW);
  });
  visible.sort((a, b) => b.ts - a.ts || (a.id < b.id ? -1 : 1));
  const recs = visible.map((row) => JSON.parse(row.json) as ReadRecord);
  const alerts = new Map(m.matchBatch(recs).alerts.map((a) => [a.readId, a]));
  const out: Row[] = [];
  for (const rec of recs) {
    const a = alerts.get(rec.id);
    if (a !== undefined) out.push([rec.id, a.match, a.score, a.distance, a.matchedPlate]);
  }
  return out;
}

async function check(q: SearchQuery, s: SearchSettings): Promise<number> {
  const got = await searchReads(pool, q, s, { now: NOW });
  const want = bruteForce(q, s);
  expect(got.hits.map((h): Row => [h.id, h.match, h.score, h.distance, h.matchedPlate]), JSON.stringify({ q, s })).toEqual(want);
  expect(got.truncated).toBe(false);
  expect(got.scanned).toBeGreaterThanOrEqual(want.length);
  for (const h of got.hits) expect(h.record.id).toBe(h.id);
  return want.length;
}

const TIER_SETS: MatchTier[][] = [['exact'], ['ocr'], ['exact', 'ocr'], ['fuzzy'], ['exact', 'ocr', 'fuzzy'], ['exact', 'fuzzy']];
const ENTRY_STATES = [undefined, 'CA', 'ca', 'NV', ''];
const settingsArb: fc.Arbitrary<SearchSettings> = fc.record({
  ocrClasses: fc.constant(CLASSES),
  partialOcr: fc.boolean(),
  stateMismatch: fc.constantFrom('reject' as const, 'match' as const),
});
const windowArb = fc.oneof(
  fc.constant({ from: T0 - DAY, to: T0 + 11 * DAY }),
  fc.tuple(fc.integer({ min: 0, max: 10 * DAY }), fc.integer({ min: 0, max: 10 * DAY })).map(([a, b]) => ({ from: T0 + Math.min(a, b), to: T0 + Math.max(a, b) })),
);
const filtersArb = fc.record({
  state: fc.constantFrom(...ENTRY_STATES),
  cameraId: fc.constantFrom(undefined, undefined, 'CAM-1', 'CAM-2'),
  window: windowArb,
});
/** A query plate: a stored base plate, or one near it. */
const plateArb = fc.tuple(fc.constantFrom(...BASES), fc.nat(3), fc.nat(1000)).map(([base, edits, salt]) => {
  let p = base;
  for (let i = 0; i < edits % 3; i++) {
    const at = (salt + i * 7) % p.length;
    const cls = CLASS_OF.get(p[at]);
    p = cls !== undefined ? p.slice(0, at) + cls[(salt + i) % cls.length] + p.slice(at + 1) : p.slice(0, at) + CHARS[(salt + i) % CHARS.length] + p.slice(at + 1);
  }
  return p;
});

/** A pattern from a base plate: some characters become `?`, a set (with an OCR look-alike), a `*`, or a look-alike literal. */
const patternArb = fc.tuple(fc.constantFrom(...BASES), fc.array(fc.nat(9), { minLength: 8, maxLength: 8 })).map(([base, dice]) => {
  let out = '';
  for (let i = 0; i < base.length; i++) {
    const d = dice[i % dice.length] + i;
    const ch = base[i];
    const cls = CLASS_OF.get(ch);
    if (d % 9 === 0) out += '?';
    else if (d % 9 === 1) out += `[${ch}${cls !== undefined ? cls[(d + 1) % cls.length] : 'K'}]`;
    else if (d % 9 === 2 && !out.endsWith('*')) out += '*';
    else if (d % 9 === 3 && cls !== undefined) out += cls[d % cls.length];
    else out += ch;
  }
  return /[A-Z0-9\]]/.test(out.replace(/\[/g, '')) ? out : `${base[0]}*`;
});

function suite(label: string): void {
  it(`${label}: plate searches equal the brute force (every tier set, distance 0-2, state rule, camera, window)`, async () => {
    let matched = 0;
    await fc.assert(
      fc.asyncProperty(plateArb, fc.constantFrom(...TIER_SETS), fc.integer({ min: 0, max: 2 }), filtersArb, settingsArb, async (plate, tiers, maxDistance, f, s) => {
        const q: SearchQuery = { plate, tiers, maxDistance, ...f.window };
        if (f.state !== undefined) q.state = f.state;
        if (f.cameraId !== undefined) q.cameraId = f.cameraId;
        matched += await check(q, s);
      }),
      { numRuns: RUNS, seed: 1130 },
    );
    expect(matched).toBeGreaterThan(RUNS); // the property is not vacuous
  });

  it(`${label}: pattern searches equal the brute force (?, *, [..], partialOcr on and off, state, camera, window)`, async () => {
    let matched = 0;
    await fc.assert(
      fc.asyncProperty(patternArb, filtersArb, settingsArb, async (pattern, f, s) => {
        const q: SearchQuery = { pattern, ...f.window };
        if (f.state !== undefined) q.state = f.state;
        if (f.cameraId !== undefined) q.cameraId = f.cameraId;
        matched += await check(q, s);
      }),
      { numRuns: RUNS, seed: 2611 },
    );
    expect(matched).toBeGreaterThan(RUNS);
  });
}

describe('searchReads against a brute-force scan', () => {
  describe('without the trigram index on the candidates\' keys (an older database; search probes for it)', () => {
    beforeAll(async () => {
      await pool.query('DROP INDEX IF EXISTS platesieve.reads_cand_trgm');
      await pool.query('ANALYZE platesieve.reads');
    });
    suite('without the candidates index');
  });

  it('every base plate at distance 2, all tiers, whole window (short keys take the scan fallback)', async () => {
    for (const plate of BASES) {
      for (const stateMismatch of ['reject', 'match'] as const) {
        await check({ plate, tiers: ['exact', 'ocr', 'fuzzy'], maxDistance: 2, from: T0 - DAY, to: T0 + 11 * DAY, state: 'CA' }, { ocrClasses: CLASSES, partialOcr: false, stateMismatch });
      }
    }
  });

  describe('with the trigram index on the candidates\' keys', () => {
    beforeAll(async () => {
      // As migration 1 creates it.
      await pool.query(`CREATE INDEX IF NOT EXISTS reads_cand_trgm ON platesieve.reads USING gin (platesieve.cand_text(cand_keys) gin_trgm_ops) WHERE cand_keys IS NOT NULL`);
      await pool.query('ANALYZE platesieve.reads');
    });
    suite('with the candidates index');
  });
});

describe('searchReads results', () => {
  const all = { from: T0 - DAY, to: T0 + 11 * DAY };
  const s: SearchSettings = { ocrClasses: CLASSES, partialOcr: false, stateMismatch: 'match' };

  it('returns the newest `limit` hits and says it truncated; reports progress', async () => {
    const q: SearchQuery = { plate: BASES[0], tiers: ['exact', 'ocr', 'fuzzy'], maxDistance: 2, ...all };
    const full = await searchReads(pool, q, s, { now: NOW });
    expect(full.hits.length).toBeGreaterThan(5);
    const progress: Array<[number, number]> = [];
    const part = await searchReads(pool, { ...q, limit: 5 }, s, { now: NOW, onProgress: (done, total) => progress.push([done, total]) });
    expect(part.truncated).toBe(true);
    expect(part.hits).toEqual(full.hits.slice(0, 5));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)![1]).toBeGreaterThanOrEqual(full.hits.length);
    const ts = full.hits.map((h) => h.ts);
    expect(ts).toEqual([...ts].sort((a, b) => b - a));
  });

  it('leaves out expired rows, keeps held copies whatever their expiry, once per read', async () => {
    const gone = await searchReads(pool, { plate: BASES[0], tiers: ['exact'], ...all }, s, { now: NOW });
    expect(gone.hits.filter((h) => h.id === 'gone-1')).toHaveLength(1);
    const ids = gone.hits.map((h) => h.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const h of gone.hits) expect(h.record.retention.expiresAt > NOW || held.has(h.id)).toBe(true);
    // Without the hold's copy, a later `now` makes every row of this window invisible.
    const later = await searchReads(pool, { plate: BASES[0], tiers: ['exact'], ...all }, s, { now: NOW + 400 * DAY });
    expect(later.hits.every((h) => held.has(h.id))).toBe(true);
  });

  it('a placeholder plate or no tier matches nothing, as in the matcher', async () => {
    expect((await searchReads(pool, { plate: '000', ...all }, s, { now: NOW })).hits).toEqual([]);
    expect((await searchReads(pool, { plate: BASES[0], tiers: [], ...all }, s, { now: NOW })).hits).toEqual([]);
  });

  it('refuses malformed queries with stable codes', async () => {
    const bad: Array<[Partial<SearchQuery>, string, string]> = [
      [{ plate: 'AB#1' }, 'ERR_SEARCH_PLATE', 'plate'],
      [{ plate: 'ABCDEFGHIJK' }, 'ERR_SEARCH_PLATE', 'plate'],
      [{ pattern: 'AB[C' }, 'ERR_SEARCH_PATTERN', 'pattern'],
      [{ pattern: '??*' }, 'ERR_SEARCH_PATTERN', 'pattern'],
      [{ plate: 'AB1', pattern: 'AB*' }, 'ERR_SEARCH_QUERY', 'plate'],
      [{}, 'ERR_SEARCH_QUERY', 'plate'],
      [{ plate: 'AB1', from: 2, to: 1 }, 'ERR_SEARCH_WINDOW', 'from'],
      [{ plate: 'AB1', to: Number.NaN }, 'ERR_SEARCH_WINDOW', 'to'],
      [{ plate: 'AB1', maxDistance: 3 }, 'ERR_SEARCH_DISTANCE', 'maxDistance'],
      [{ plate: 'AB1', maxDistance: 0.5 }, 'ERR_SEARCH_DISTANCE', 'maxDistance'],
      [{ plate: 'AB1', tiers: ['partial' as MatchTier] }, 'ERR_SEARCH_TIERS', 'tiers'],
      [{ plate: 'AB1', limit: 0 }, 'ERR_SEARCH_LIMIT', 'limit'],
      [{ plate: 'AB1', state: 5 as unknown as string }, 'ERR_SEARCH_QUERY', 'state'],
    ];
    for (const [q, code, field] of bad) {
      const err = await searchReads(pool, { ...all, ...q }, s).catch((e: unknown) => e);
      expect(err, JSON.stringify(q)).toBeInstanceOf(SearchError);
      expect(err).toMatchObject({ code, field });
    }
  });
});

describe('candidate conditions are supersets', () => {
  const alphabet = keyAlphabet(classMap);
  const keyArb = fc.string({ unit: fc.constantFrom(...alphabet), minLength: 1, maxLength: 10 });
  const editsArb = fc.array(fc.record({ kind: fc.constantFrom('sub', 'ins', 'del'), pos: fc.nat(10), ch: fc.constantFrom(...alphabet) }), { maxLength: 2 });
  const apply = (k: string, edits: ReadonlyArray<{ kind: string; pos: number; ch: string }>): string => {
    let out = k;
    for (const e of edits) {
      const i = e.pos % (out.length + 1);
      if (e.kind === 'ins' && out.length < 10) out = out.slice(0, i) + e.ch + out.slice(i);
      else if (e.kind === 'del' && out.length > 1 && i < out.length) out = out.slice(0, i) + out.slice(i + 1);
      else if (i < out.length) out = out.slice(0, i) + e.ch + out.slice(i + 1);
    }
    return out;
  };

  it('a key within distance d of the query matches its pigeonhole regex and is among its neighbours (d = 1)', () => {
    fc.assert(
      fc.property(keyArb, editsArb, (key, edits) => {
        const x = apply(key, edits);
        for (const d of [edits.length, 2].filter((v) => v >= 1 && v <= 2)) {
          // Every cut, not only the few the search uses.
          for (const re of pigeonholeRegexes(key, d, 1000)) expect(new RegExp(re).test(x), `${key} ${x} ${re}`).toBe(true);
        }
        if (edits.length <= 1) expect(neighbours(key, 1, alphabet)).toContain(x);
      }),
      { numRuns: 3000 },
    );
  });

  it('cuts keys into pieces of at least 2, most even first', () => {
    expect(pigeonholeRegexes('5MM6123', 2).sort()).toEqual(['^5M|M61|[0-9A-Z]23', '^5M|[0-9A-Z]M6|M6[0-9A-Z]|123', '^5MM|[0-9A-Z]61|61[0-9A-Z]|[0-9A-Z]23'].sort());
    expect(pigeonholeRegexes('5MM6123', 1, 1)).toEqual(['^5MM|6123']);
    expect(pigeonholeRegexes('ABCDE', 2)).toEqual([]);
    expect(pigeonholeRegexes('ABC', 1)).toEqual([]);
  });

  it('collapses keys over the class representatives only', () => {
    expect(alphabet).toHaveLength(36 - 9);
    expect(collapsePlate('B0OQ', classMap)).toBe('8000');
  });
});
