/**
 * Target `config`: the service configuration file (service/config.ts loadServiceConfig:
 * YAML or JSON, `${VAR}` expansion, the zod schema). Configurations are built from the
 * schema's keys with valid and invalid values, written as YAML (with anchors, aliases, merge
 * keys, tags, several documents) or JSON, then mutated as text. The documented error is
 * ConfigError, with at least one issue and a message per issue.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { ConfigError } from '../../matcher/errors.js';
import { loadServiceConfig, redactConfig } from '../../matcher/service/config.js';
import type { Rng } from '../rng.js';
import { mutateBytes } from '../mutate.js';
import { scratchFolder } from '../tmp.js';
import { FuzzFailure, type CaseResult, type FuzzCase, type Target } from '../types.js';

/** The environment `${VAR}` expands from: fixed, so a case loads the same every time. */
const ENV: NodeJS.ProcessEnv = { NATS_URL: 'nats://10.0.0.1:4222', WORKERS: '4', EMPTY: '', SECRET: 's3cret', BAD: '${NATS_URL}' };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const ODD: Json[] = [null, true, 'true', -1, 0, 1.5, 1e308, '', 'x', [], {}, [1, 'a'], { a: 1 }, '${WORKERS}', '${MISSING}', '${MISSING:-7}', '$$', '${SECRET}', 'nats://u:p@h:4222', '__proto__'];

function maybe(rng: Rng, good: () => Json): Json {
  return rng.chance(0.98) ? good() : rng.pick(ODD);
}

function section(rng: Rng, fields: Record<string, () => Json>): Json {
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(fields)) if (rng.chance(k === 'hotlists' ? 0.95 : 0.4)) out[k] = maybe(rng, v);
  if (rng.chance(0.02)) out[rng.pick(['unknown', 'Servers', 'nats', '__proto__', 'constructor'])] = rng.pick(ODD);
  return out;
}

/** Usually one of `good`, now and then one of `bad` (each key's own wrong values). */
function v(rng: Rng, good: readonly Json[], bad: readonly Json[]): Json {
  // Wrong values rarely: a config has some thirty keys, and one wrong key refuses it.
  return rng.chance(0.97) || bad.length === 0 ? rng.pick(good) : rng.pick(bad);
}

function hotlist(rng: Rng): Json {
  return {
    file: maybe(rng, () => rng.pick(['hotlist.csv', '/data/ncic.txt', '${MISSING:-list.csv}'])),
    ...(section(rng, {
      source: () => 'NCIC',
      defaultList: () => v(rng, ['BOLO', 'WANTED'], ['', 'IMMIGRATION']),
      defaultPriority: () => v(rng, [1, 3, 5], [0, 6, 2.5]),
      format: () => v(rng, ['csv', 'ndjson', 'delimited', 'ncic-fixed'], ['xml']),
      layout: () => v(rng, ['ncic-fixed', 'ncic-pipe', 'state-csv'], ['other']),
      columns: () => v(rng, [{ plate: 0, state: 1 }, { plate: 'LIC' }, { plate: { start: 0, end: 7 } }], [{ plate: { start: -1, end: 0 } }, { plate: [] }]),
      delimiter: () => v(rng, ['|', ',', '\t'], ['', '||']),
      hasHeader: () => v(rng, [true, false], ['yes']),
      codes: () => v(rng, [{ Q: 'LOCAL_BOLO' }], [{ Q: 1 }, { Q: 'ICE_HOLD' }]),
      maxInvalidFraction: () => v(rng, [0, 0.05, 1], [2, -0.1]),
      maxAgeHours: () => v(rng, [24, 0.5, '${WORKERS}'], [0, -1]),
      refreshMinutes: () => v(rng, [0, 5], [-5]),
      minRetainedFraction: () => v(rng, [0.5, 1], [1.1]),
    }) as { [k: string]: Json }),
  };
}

function configValue(rng: Rng): Json {
  return section(rng, {
    nats: () => section(rng, {
      servers: () => v(rng, [['nats://127.0.0.1:4222'], ['${NATS_URL}', 'nats://b:4222']], [[], ['has space'], 'nats://a']),
      name: () => 'platesieve', user: () => 'u', pass: () => '${SECRET}', token: () => 't', credsFile: () => 'creds',
      tls: () => section(rng, { caFile: () => 'ca.pem', certFile: () => 'c.pem', keyFile: () => 'k.pem' }),
      maxReconnectAttempts: () => v(rng, [-1, 0, 10], [-2]), reconnectTimeWaitMs: () => v(rng, [0, 500], [-1, 0.5]),
    }),
    subjects: () => section(rng, { prefix: () => v(rng, ['alpr', 'a.b'], ['a..b', '.a', 'a b']) }),
    queueGroup: () => v(rng, ['platesieve'], ['a b']),
    mode: () => v(rng, ['core', 'jetstream'], ['other']),
    jetstream: () => section(rng, {
      readsStream: () => 'ALPR_READS', outStream: () => 'OUT', consumer: () => 'c', createStreams: () => v(rng, [true, 'false'], ['no']),
      ackWaitMs: () => v(rng, [1, 30_000], [0]), maxAckPending: () => 10, fetchBatch: () => v(rng, [1, 1000], [0]), duplicateWindowMs: () => 1, maxDeliver: () => 5,
    }),
    hotlists: () => Array.from({ length: rng.chance(0.95) ? rng.range(1, 3) : 0 }, () => hotlist(rng)),
    matching: () => section(rng, {
      tiers: () => v(rng, [['exact'], ['exact', 'ocr', 'fuzzy']], [[], ['fast']]),
      listTiers: () => v(rng, [{ BOLO: ['exact'] }], [{ BOLO: [] }]),
      maxDistance: () => v(rng, [0, 1, 2], [-1, 3]), stateMismatch: () => v(rng, ['reject', 'match'], ['x']),
      minScore: () => v(rng, [0, 0.5, 1], [1.5]), partialOcr: () => rng.chance(0.5),
      ocrClasses: () => v(rng, [['0ODQ', '1IL']], [['a'], ['0']]),
    }),
    pool: () => section(rng, { workers: () => v(rng, [0, 2, '${WORKERS}'], [-1]), batchSize: () => v(rng, [1, 512], [0]), batchWaitMs: () => 2, maxInFlight: () => 4 }),
    suppression: () => section(rng, { windowMs: () => v(rng, [0, 300_000], [-5]) }),
    records: () => section(rng, { coalesce: () => rng.chance(0.5) }),
    retention: () => section(rng, {
      default: () => section(rng, { policy: () => 'p', nonhitDays: () => v(rng, [30, 0.5], [0, -1]), hitDays: () => 365, basis: () => 'b' }),
      agencies: () => v(rng, [{ CO0010000: { policy: 'd', nonhitDays: 21 } }], [{ 'bad key': {} }, { CO1: { other: 1 } }]),
    }),
    metrics: () => v(rng, [null, false, { port: 9464 }], [{ port: 70_000 }, true]),
    log: () => section(rng, { level: () => v(rng, ['info', 'debug'], ['loud']) }),
    shutdownTimeoutMs: () => v(rng, [0, 10_000], [-1]),
    audit: () => section(rng, { file: () => 'audit.log', actor: () => 'me' }),
    liveUpdates: () => section(rng, { bucket: () => v(rng, ['alpr-hotlist', null], ['a b']), required: () => rng.chance(0.5) }),
  });
}

/** YAML the generic writer does not produce: anchors and aliases, merge keys, tags, directives. */
const YAML_EXTRAS = [
  'base: &b {workers: 2}\npool:\n  <<: *b\n',
  'a: &a [1, 2]\nb: [*a, *a, *a, *a]\nc: [*b, *b]\n',
  '%YAML 1.1\n---\npool: {workers: !!int "2"}\nx: !!binary aGVsbG8=\n',
  '--- {mode: core}\n--- {mode: jetstream}\n',
  'mode: !custom core\n',
  '? [complex, key]\n: value\n',
  'hotlists:\n  - file: a.csv\n    maxAgeHours: .inf\n',
  'hotlists: [{file: "a.csv", maxAgeHours: 0x10}]\n',
  'pool: &p\n  workers: 2\n  self: *p\n',
  'hotlists:\n  - &h\n    file: a.csv\n    columns: {plate: 0, again: *h}\n',
  `l0: &l0 [x, x, x, x, x, x, x, x, x]\nl1: &l1 [*l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0]\nl2: &l2 [*l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1]\nl3: [*l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2]\n`,
];

const EXTENSIONS = ['.yaml', '.yml', '.json', '.conf'];
const utf8 = new TextEncoder();

function generate(rng: Rng): FuzzCase {
  const opt = rng.int(EXTENSIONS.length);
  const value = configValue(rng);
  let text: string;
  if (opt === 2 || (opt === 3 && rng.chance(0.5))) text = JSON.stringify(value, null, rng.chance(0.5) ? 2 : undefined);
  else {
    text = toYaml(value, { indent: rng.pick([2, 4]), lineWidth: rng.pick([0, 20, 80]), defaultStringType: rng.pick(['PLAIN', 'QUOTE_DOUBLE', 'BLOCK_LITERAL'] as const) });
    if (rng.chance(0.1)) text += rng.pick(YAML_EXTRAS);
  }
  if (rng.chance(0.01)) {
    // Deep nesting: unbalanced, balanced flow (JSON or YAML), as a value of a setting.
    const d = rng.pick([63, 64, 65, 100, 1000, 5000, 20_000]);
    text = rng.pick([
      '['.repeat(d),
      `{"pool": ${'['.repeat(d)}${']'.repeat(d)}}`,
      `{"matching": ${'{"a":'.repeat(d)}1${'}'.repeat(d)}}`,
      `pool: ${'['.repeat(d)}${']'.repeat(d)}\n`,
      `hotlists:\n${Array.from({ length: Math.min(d, 300) }, (_, i) => `${' '.repeat(2 * i)}- `).join('\n')}x\n`,
    ]);
  }
  if (rng.chance(0.01)) text = `a:\n${Array.from({ length: rng.pick([50, 500]) }, (_, i) => `${' '.repeat(2 * i + 2)}k${i}:`).join('\n')}\n`;
  let data: Uint8Array = utf8.encode(text);
  if (rng.chance(0.4)) data = mutateBytes(rng, data, { text: true, maxLength: 1 << 16 });
  return { data, opt };
}

/** YAML warnings (unresolved tags, odd anchors): counted, not printed a million times. */
let warnings = 0;
let folder: string | undefined;

function configFolder(): string {
  if (folder === undefined) {
    // The yaml package reports through process.emitWarning; Node prints each to stderr.
    process.removeAllListeners('warning');
    process.on('warning', () => void warnings++);
    folder = scratchFolder('config');
  }
  return folder;
}

function run(c: FuzzCase): CaseResult {
  const file = join(configFolder(), `config${EXTENSIONS[c.opt ?? 0] ?? '.yaml'}`);
  writeFileSync(file, c.data);
  try {
    const config = loadServiceConfig(file, {}, ENV);
    if (config.hotlists.length === 0) throw new FuzzFailure('a config without hotlists was accepted');
    JSON.stringify(redactConfig(config));
    return { rejected: false };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    if (err.message.trim() === '' || err.issues.length === 0) throw new FuzzFailure('ConfigError without issues or message');
    for (const i of err.issues) {
      if (typeof i.message !== 'string' || !i.message.startsWith('config: ') || i.message.length <= 'config: '.length) {
        throw new FuzzFailure(`ConfigError issue without a proper message: ${JSON.stringify(i)}`);
      }
    }
    return { rejected: true };
  }
}

/** The configuration file fuzz target. */
export const configTarget: Target = {
  name: 'config',
  description: 'service config file (loadServiceConfig: YAML/JSON, ${VAR} expansion, zod schema)',
  generate,
  run,
  counters: () => ({ yamlWarnings: warnings }),
};
