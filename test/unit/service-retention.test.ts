/**
 * Retention tagging: the agency's policy or the default, expiry from the read time, and the
 * shape of the record published for every read.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../matcher/errors.js';
import { loadServiceConfig, type ServiceConfig } from '../../matcher/service/config.js';
import {
  DAY_MS,
  buildRecord,
  readTimeMs,
  retentionFor,
  type RetentionConfig,
} from '../../matcher/service/retention.js';
import { tempDir } from '../helpers/cli.js';
import type { ReadRecord } from '../../matcher/types.js';

const T = Date.UTC(2025, 5, 1, 8, 30);

const config: RetentionConfig = {
  default: { policy: 'default-30d', nonhitDays: 30, hitDays: 30, basis: 'Regional default: 30 days' },
  agencies: {
    CO0300100: { policy: 'clear-creek-co-21d', nonhitDays: 21, hitDays: 21, basis: 'CCCSO Policy 424.4: purged after 21 days unless evidence' },
    CA0130300: { policy: 'el-centro-ca-2y', nonhitDays: 730, hitDays: 730, basis: 'ECPD Policy 464.9; Gov. Code 34090: minimum two years' },
    CO0300700: { policy: 'lakewood-co-1y', nonhitDays: 365, hitDays: 365, basis: 'LPD ALPR policy 4.a: no more than one year' },
  },
};

describe('retentionFor', () => {
  it('applies the policy of the read agency', () => {
    expect(retentionFor('CO0300100', false, T, config)).toEqual({
      policy: 'clear-creek-co-21d',
      class: 'nonhit',
      expiresAt: T + 21 * DAY_MS,
      basis: 'CCCSO Policy 424.4: purged after 21 days unless evidence',
    });
    expect(retentionFor('CA0130300', false, T, config).expiresAt).toBe(T + 730 * 86_400_000);
  });

  it('uses the hit period and class for a read that raised an alert', () => {
    const cfg: RetentionConfig = {
      ...config,
      agencies: { X: { policy: 'x', nonhitDays: 30, hitDays: 365, basis: 'b' } },
    };
    expect(retentionFor('X', true, T, cfg)).toMatchObject({ class: 'hit', expiresAt: T + 365 * DAY_MS });
    expect(retentionFor('X', false, T, cfg)).toMatchObject({ class: 'nonhit', expiresAt: T + 30 * DAY_MS });
  });

  it('falls back to the default for an unknown, absent or inherited agency name', () => {
    for (const agency of ['NOPE', undefined, 'toString', '__proto__']) {
      expect(retentionFor(agency, false, T, config)).toMatchObject({ policy: 'default-30d', expiresAt: T + 30 * DAY_MS });
    }
  });

  it('counts expiry from the read time, not the processing time', () => {
    const old = T - 20 * DAY_MS;
    expect(retentionFor('CO0300100', false, old, config).expiresAt).toBe(T + DAY_MS);
  });
});

describe('buildRecord', () => {
  const read = {
    id: 'r1',
    plate: 'abc-123',
    state: 'CO',
    ts: T,
    cameraId: 'cam-7',
    agency: 'CO0300100',
    confidence: 0.93,
    imageRef: 's3://img/r1.jpg',
  };

  it('is the read plus hit, alertIds and retention', () => {
    const retention = retentionFor(read.agency, true, T, config);
    const record: ReadRecord = buildRecord(read, ['a1', 'a2'], retention);
    expect(record).toEqual({ ...read, hit: true, alertIds: ['a1', 'a2'], retention });
    expect(record.retention.class).toBe('hit');
  });

  it('marks a read without alerts as not a hit', () => {
    const record = buildRecord(read, [], retentionFor(read.agency, false, T, config));
    expect(record.hit).toBe(false);
    expect(record.alertIds).toEqual([]);
    expect(record.retention.class).toBe('nonhit');
  });

  it('is a hit without alert ids when tagged as a hit (its alert was suppressed as a repeat)', () => {
    const record = buildRecord(read, [], retentionFor(read.agency, true, T, config));
    expect(record.hit).toBe(true);
    expect(record.alertIds).toEqual([]);
  });

  it('writes an ISO 8601 read time as epoch milliseconds and drops an unparseable one', () => {
    const r = buildRecord({ id: 'r2', plate: 'X1', ts: '2025-06-01T08:30:00Z' }, [], retentionFor(undefined, false, T, config));
    expect(r.ts).toBe(T);
    const bad = buildRecord({ id: 'r3', plate: 'X1', ts: 'yesterday' }, [], retentionFor(undefined, false, T, config));
    expect('ts' in bad).toBe(false);
  });

  it('serializes to JSON with the DESIGN field names', () => {
    const json = JSON.parse(JSON.stringify(buildRecord(read, [], retentionFor(read.agency, false, T, config)))) as ReadRecord;
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['id', 'plate', 'ts', 'hit', 'alertIds', 'retention']));
    expect(Object.keys(json.retention).sort()).toEqual(['basis', 'class', 'expiresAt', 'policy']);
  });
});

describe('readTimeMs', () => {
  it('takes numbers and ISO strings, else the fallback', () => {
    expect(readTimeMs(T, 0)).toBe(T);
    expect(readTimeMs('2025-06-01T08:30:00.000Z', 0)).toBe(T);
    expect(readTimeMs(undefined, 42)).toBe(42);
    expect(readTimeMs('garbage', 42)).toBe(42);
    expect(readTimeMs(Number.NaN, 42)).toBe(42);
  });
});

// The configuration is validated once, by the service configuration's schema
// (matcher/service/config.ts): these cases go through loadServiceConfig.
describe('retention configuration', () => {
  const { file } = tempDir('platesieve-retention-');
  const load = async (retention: RetentionConfig): Promise<ServiceConfig> =>
    loadServiceConfig(await file('config.json', JSON.stringify({ hotlists: [{ file: 'hotlist.csv' }], retention })), {}, {});
  const refusal = async (retention: RetentionConfig): Promise<ConfigError> => {
    try {
      await load(retention);
    } catch (err) {
      if (err instanceof ConfigError) return err;
      throw err;
    }
    throw new Error('the configuration was accepted');
  };

  // Every loaded policy carries its minimumDays (0 when the file gives none).
  const withMinimum = (c: RetentionConfig): RetentionConfig => ({
    default: { ...c.default, minimumDays: 0 } as RetentionConfig['default'],
    agencies: Object.fromEntries(Object.entries(c.agencies).map(([k, v]) => [k, { ...v, minimumDays: 0 }])),
  });

  it('accepts a valid configuration, including hits kept shorter than non-hits', async () => {
    expect((await load(config)).retention).toEqual(withMinimum(config));
    const shorter: RetentionConfig = { default: { policy: 'p', nonhitDays: 30, hitDays: 7, basis: 'b' }, agencies: {} };
    expect((await load(shorter)).retention).toEqual(withMinimum(shorter));
  });

  it('names the bad key', async () => {
    const bad = (agency: object): RetentionConfig => ({ ...config, agencies: { ORI1: { ...config.default, ...agency } } });
    const hitDays = await refusal(bad({ hitDays: 0 }));
    expect(hitDays.message).toMatch(/retention\.agencies\.ORI1\.hitDays must be a number > 0/);
    expect(hitDays.key).toBe('retention.agencies.ORI1.hitDays');
    expect((await refusal(bad({ policy: '' }))).message).toMatch(/ORI1\.policy/);
    expect((await refusal({ ...config, default: { ...config.default, nonhitDays: -3 } })).message).toMatch(/retention\.default\.nonhitDays/);
  });
});
