import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createUser } from 'nkeys.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../matcher/errors.js';
import { loadServiceConfig, redactConfig, type ServiceConfig } from '../../matcher/service/config.js';
import { natsConnectionOptions } from '../../matcher/service/connection.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'platesieve-config-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The ConfigError thrown by `fn`. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const HOTLIST = { hotlists: ['hot.csv'] };

describe('loadServiceConfig defaults', () => {
  it('fills every default when there is no file, given a hotlist flag', () => {
    const c = loadServiceConfig(undefined, HOTLIST, {});
    expect(c.nats).toEqual({
      servers: ['nats://127.0.0.1:4222'],
      name: 'platesieve',
      inboxPrefix: '_INBOX',
      maxReconnectAttempts: -1,
      reconnectTimeWaitMs: 500,
    });
    expect(c.subjects).toEqual({ prefix: 'alpr' });
    expect(c.queueGroup).toBe('platesieve');
    expect(c.mode).toBe('core');
    expect(c.jetstream).toEqual({
      readsStream: 'ALPR_READS',
      outStream: 'ALPR_OUT',
      consumer: 'platesieve',
      createStreams: true,
      ackWaitMs: 30000,
      maxAckPending: 20000,
      maxDeliver: 5,
      fetchBatch: 1000,
      duplicateWindowMs: 120000,
    });
    expect(c.hotlists).toEqual([{ file: resolve('hot.csv'), source: 'LOCAL', maxAgeHours: 24, refreshMinutes: 5, minRetainedFraction: 0.5 }]);
    expect(c.matching).toEqual({ maxDistance: 1, stateMismatch: 'reject', minScore: 0, partialOcr: false });
    expect(c.pool).toEqual({ workers: 0, batchSize: 512, batchWaitMs: 2, maxInFlight: 4 });
    expect(c.suppression).toEqual({ windowMs: 300000 });
    expect(c.records).toEqual({ coalesce: true });
    expect(c.retention.default).toMatchObject({ policy: 'default', nonhitDays: 30, hitDays: 365 });
    expect(c.retention.default.basis.length).toBeGreaterThan(10);
    expect(c.retention.agencies).toEqual({});
    // Loopback: /metrics and /healthz have no authentication (docs/security.md).
    expect(c.metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(c.log).toEqual({ level: 'info' });
    expect(c.shutdownTimeoutMs).toBe(10000);
    expect(c.configFile).toBeUndefined();
  });

  it('refuses a configuration without any hotlist', () => {
    const err = configError(() => loadServiceConfig(undefined, {}, {}));
    expect(err.code).toBe('ERR_CONFIG');
    expect(err.key).toBe('hotlists');
    expect(err.message).toMatch(/no hotlist configured/);
  });

  it('accepts an empty file as all defaults', () => {
    const c = loadServiceConfig(write('empty.yaml', ''), HOTLIST, {});
    expect(c.pool.workers).toBe(0);
  });
});

describe('loadServiceConfig files', () => {
  const yaml = `
nats:
  servers: [nats://a:4222, nats://b:4222]
  name: center
mode: jetstream
jetstream: { consumer: c1, fetchBatch: 200 }
subjects: { prefix: state.alpr }
hotlists:
  - { file: lists/ncic.csv, source: NCIC, maxAgeHours: 12 }
  - { file: /abs/local.ndjson, defaultList: BOLO, format: ndjson }
matching:
  tiers: [exact, ocr]
  listTiers: { AMBER: [exact, ocr, fuzzy] }
  maxDistance: 2
  stateMismatch: match
  minScore: 0.3
  ocrClasses: ["0ODQ", "1IL"]
pool: { workers: 0, batchSize: 1000, batchWaitMs: 0.5, maxInFlight: 8 }
suppression: { windowMs: 0 }
retention:
  default: { policy: state, nonhitDays: 30, hitDays: 365, basis: State law }
  agencies:
    CO0010000: { policy: clear-creek, nonhitDays: 21 }
    CA0130100: { nonhitDays: 730, hitDays: 730, basis: Gov. Code 34090 }
metrics: false
log: { level: debug }
shutdownTimeoutMs: 5000
`;

  it('reads YAML and resolves relative paths against the file', () => {
    const file = write('center.yaml', yaml);
    const c = loadServiceConfig(file, {}, {});
    expect(c.configFile).toBe(file);
    expect(c.nats.servers).toEqual(['nats://a:4222', 'nats://b:4222']);
    expect(c.mode).toBe('jetstream');
    expect(c.jetstream.consumer).toBe('c1');
    expect(c.jetstream.fetchBatch).toBe(200);
    expect(c.jetstream.readsStream).toBe('ALPR_READS');
    expect(c.subjects.prefix).toBe('state.alpr');
    expect(c.hotlists).toEqual([
      { file: join(dir, 'lists/ncic.csv'), source: 'NCIC', maxAgeHours: 12, refreshMinutes: 5, minRetainedFraction: 0.5 },
      { file: '/abs/local.ndjson', source: 'LOCAL', defaultList: 'BOLO', format: 'ndjson', maxAgeHours: 24, refreshMinutes: 5, minRetainedFraction: 0.5 },
    ]);
    expect(c.matching).toEqual({
      tiers: ['exact', 'ocr'],
      listTiers: { AMBER: ['exact', 'ocr', 'fuzzy'] },
      maxDistance: 2,
      stateMismatch: 'match',
      minScore: 0.3,
      partialOcr: false,
      ocrClasses: ['0ODQ', '1IL'],
    });
    expect(c.pool).toEqual({ workers: 0, batchSize: 1000, batchWaitMs: 0.5, maxInFlight: 8 });
    expect(c.suppression.windowMs).toBe(0);
    expect(c.metrics).toBeNull();
    expect(c.log.level).toBe('debug');
    expect(c.shutdownTimeoutMs).toBe(5000);
  });

  it('fills agency retention from the default policy and names the policy after the ORI', () => {
    const c = loadServiceConfig(write('center2.yml', yaml), {}, {});
    expect(c.retention.agencies).toEqual({
      CO0010000: { policy: 'clear-creek', nonhitDays: 21, hitDays: 365, basis: 'State law', minimumDays: 0 },
      CA0130100: { policy: 'CA0130100', nonhitDays: 730, hitDays: 730, basis: 'Gov. Code 34090', minimumDays: 0 },
    });
  });

  it('refuses a period shorter than its policy\'s minimumDays, naming the key and the rule', () => {
    const text = 'hotlists: [{ file: a.csv }]\nretention:\n  agencies:\n    CA0130100: { policy: el-centro, nonhitDays: 730, hitDays: 365, minimumDays: 730 }\n';
    const err = configError(() => loadServiceConfig(write('min.yml', text), {}, {}));
    expect(err.message).toMatch(/retention\.agencies\.CA0130100\.hitDays: 365 days is shorter than the policy's minimumDays 730/);
    const ok = loadServiceConfig(write('min-ok.yml', text.replace('hitDays: 365', 'hitDays: 730')), {}, {});
    expect(ok.retention.agencies.CA0130100).toMatchObject({ policy: 'el-centro', minimumDays: 730 });
  });

  it('fills the store section and lets `store` load a file without hotlists', () => {
    const c = loadServiceConfig(write('store.yml', 'store: { batchSize: 100 }\n'), {}, {}, { requireHotlists: false });
    expect(c.store).toMatchObject({ batchSize: 100, batchRows: 20_000, consumer: 'platesieve-store', retentionEveryMinutes: 60, historicalDays: 7 });
    expect(configError(() => loadServiceConfig(write('store2.yml', 'store: { batchSize: 0 }\n'), {}, {}, { requireHotlists: false })).message).toMatch(/store\.batchSize/);
  });

  it('reads JSON by extension and sniffs JSON in a file without one', () => {
    const json = JSON.stringify({ pool: { workers: 3 }, hotlists: [{ file: 'a.csv', source: 'NCIC' }] });
    expect(loadServiceConfig(write('c.json', json), {}, {}).pool.workers).toBe(3);
    const c = loadServiceConfig(write('c.conf', json), {}, {});
    expect(c.pool.workers).toBe(3);
    expect(c.hotlists[0].file).toBe(join(dir, 'a.csv'));
  });

  it('reports a missing file and syntax errors with the file name', () => {
    expect(configError(() => loadServiceConfig(join(dir, 'nope.yaml'), {}, {})).message).toMatch(
      /^config: cannot read .*nope\.yaml/,
    );
    expect(configError(() => loadServiceConfig(write('bad.json', '{"pool": '), {}, {})).message).toMatch(
      /bad\.json is not valid JSON/,
    );
    expect(configError(() => loadServiceConfig(write('bad.yaml', 'pool: [1, 2\n'), {}, {})).message).toMatch(
      /bad\.yaml is not valid YAML/,
    );
    expect(configError(() => loadServiceConfig(write('list.yaml', '- 1\n- 2\n'), {}, {})).message).toMatch(
      /must hold an object of settings/,
    );
  });
});

describe('loadServiceConfig validation names the key', () => {
  const bad = (text: string): ConfigError => configError(() => loadServiceConfig(write('bad-case.yaml', text), HOTLIST, {}));

  it.each([
    ['pool: { workers: x }', 'pool.workers', 'config: pool.workers must be an integer >= 0 (got "x")'],
    ['pool: { workers: 1.5 }', 'pool.workers', 'config: pool.workers must be an integer >= 0 (got 1.5)'],
    ['pool: { batchSize: 0 }', 'pool.batchSize', 'config: pool.batchSize must be an integer from 1 to 65536 (got 0)'],
    ['pool: { batchSize: 65537 }', 'pool.batchSize', 'config: pool.batchSize must be an integer from 1 to 65536 (got 65537)'],
    ['pool: { batchWaitMs: -1 }', 'pool.batchWaitMs', 'config: pool.batchWaitMs must be a number >= 0 (got -1)'],
    ['mode: fast', 'mode', 'config: mode must be "core" or "jetstream" (got "fast")'],
    ['matching: { maxDistance: 3 }', 'matching.maxDistance', 'config: matching.maxDistance must be an integer from 0 to 2 (got 3)'],
    ['matching: { minScore: 2 }', 'matching.minScore', 'config: matching.minScore must be a number from 0 to 1 (got 2)'],
    ['matching: { stateMismatch: maybe }', 'matching.stateMismatch', 'config: matching.stateMismatch must be "reject" or "match" (got "maybe")'],
    ['matching: { tiers: [exact, psychic] }', 'matching.tiers[1]', 'config: matching.tiers[1] must be one of "exact", "ocr", "fuzzy" (got "psychic")'],
    ['matching: { tiers: [] }', 'matching.tiers', 'config: matching.tiers must name at least one tier (got [])'],
    ['matching: { listTiers: { AMBER: fuzzy } }', 'matching.listTiers.AMBER', 'config: matching.listTiers.AMBER must be a list of tiers ("exact", "ocr", "fuzzy") (got "fuzzy")'],
    ['matching: { ocrClasses: ["0o"] }', 'matching.ocrClasses[0]', 'config: matching.ocrClasses[0] must be a class of 2 or more characters A-Z0-9, such as "0ODQ" (got "0o")'],
    ['nats: { servers: [] }', 'nats.servers', 'config: nats.servers must list at least one server (got [])'],
    ['nats: { servers: nats://x }', 'nats.servers', 'config: nats.servers must be a list of server URLs (got "nats://x")'],
    ['nats: { maxReconnectAttempts: -2 }', 'nats.maxReconnectAttempts', 'config: nats.maxReconnectAttempts must be an integer >= -1 (got -2)'],
    ['nats: { tls: { caFile: 3 } }', 'nats.tls.caFile', 'config: nats.tls.caFile must be a non-empty string (got 3)'],
    ['nats: 5', 'nats', 'config: nats must be an object (got 5)'],
    ['subjects: { prefix: "alpr.>" }', 'subjects.prefix', 'config: subjects.prefix must be a subject prefix such as "alpr" (tokens of letters, digits, "_", "-", joined by ".") (got "alpr.>")'],
    ['queueGroup: "two words"', 'queueGroup', 'config: queueGroup must be a queue group name of letters, digits, "_" and "-" (got "two words")'],
    ['jetstream: { readsStream: "A.B" }', 'jetstream.readsStream', 'config: jetstream.readsStream must be a stream name of letters, digits, "_" and "-" (got "A.B")'],
    ['jetstream: { createStreams: yes }', 'jetstream.createStreams', 'config: jetstream.createStreams must be true or false (got "yes")'],
    ['jetstream: { ackWaitMs: 0 }', 'jetstream.ackWaitMs', 'config: jetstream.ackWaitMs must be an integer >= 1 (got 0)'],
    ['suppression: { windowMs: -5 }', 'suppression.windowMs', 'config: suppression.windowMs must be an integer >= 0 (got -5)'],
    ['retention: { default: { hitDays: 0 } }', 'retention.default.hitDays', 'config: retention.default.hitDays must be a number > 0 (got 0)'],
    ['retention: { agencies: { CO0010000: { nonhitDays: x } } }', 'retention.agencies.CO0010000.nonhitDays', 'config: retention.agencies.CO0010000.nonhitDays must be a number > 0 (got "x")'],
    [`retention: { default: { policy: ${'p'.repeat(65)} } }`, 'retention.default.policy', `config: retention.default.policy must be a policy name of 1 to 64 characters, none of them a control character (got "${'p'.repeat(56)}...)`],
    ['retention: { agencies: { CO1: { policy: "a\\nb" } } }', 'retention.agencies.CO1.policy', 'config: retention.agencies.CO1.policy must be a policy name of 1 to 64 characters, none of them a control character (got "a\\nb")'],
    ['metrics: { port: 70000 }', 'metrics.port', 'config: metrics.port must be an integer from 0 to 65535 (got 70000)'],
    ['metrics: 5', 'metrics', 'config: metrics must be an object { port, host }, or null/false to turn metrics off (got 5)'],
    ['log: { level: loud }', 'log.level', 'config: log.level must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'],
    ['shutdownTimeoutMs: soon', 'shutdownTimeoutMs', 'config: shutdownTimeoutMs must be an integer >= 0 (got "soon")'],
  ])('%s', (text, key, message) => {
    const err = bad(text);
    expect(err.key).toBe(key);
    expect(err.message).toBe(message);
  });

  it('names a missing required key', () => {
    const err = configError(() => loadServiceConfig(write('nofile.yaml', 'hotlists: [{ source: NCIC }]'), {}, {}));
    expect(err.key).toBe('hotlists[0].file');
    expect(err.message).toBe('config: hotlists[0].file is required: it must be a non-empty string');
  });

  it('rejects unknown keys at any depth', () => {
    expect(bad('colour: blue').message).toBe('config: colour is not a known setting');
    expect(bad('pool: { threads: 4 }').message).toBe('config: pool.threads is not a known setting');
    expect(bad('retention: { agencies: { CO0010000: { days: 3 } } }').key).toBe('retention.agencies.CO0010000.days');
    expect(bad('nats: { tls: { ca: x } }').key).toBe('nats.tls.ca');
    expect(bad('records: { coalesce: maybe }').message).toBe('config: records.coalesce must be true or false (got "maybe")');
  });

  it('lists every problem, one per line', () => {
    const err = bad('pool: { workers: x, batchSize: 0 }\nmode: fast\nextra: 1\n');
    const lines = err.message.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.every((l) => l.startsWith('config: '))).toBe(true);
    expect(err.issues.map((i) => i.key).sort()).toEqual(['extra', 'mode', 'pool.batchSize', 'pool.workers']);
  });
});

describe('loadServiceConfig environment', () => {
  it('takes secrets from PLATESIEVE_NATS_* when the file leaves them unset', () => {
    const c = loadServiceConfig(undefined, HOTLIST, {
      PLATESIEVE_NATS_USER: 'alice',
      PLATESIEVE_NATS_PASS: 's3cret',
      PLATESIEVE_NATS_TOKEN: 'tok',
      PLATESIEVE_NATS_CREDS: 'creds/user.creds',
      PLATESIEVE_NATS_NKEY_SEED_FILE: '/keys/seed.nk',
    });
    expect(c.nats).toMatchObject({
      user: 'alice',
      pass: 's3cret',
      token: 'tok',
      credsFile: resolve('creds/user.creds'),
      nkeySeedFile: '/keys/seed.nk',
    });
  });

  it('keeps what the file sets over the environment', () => {
    const file = write('user.yaml', 'nats: { user: bob, pass: filepass }\nhotlists: [{ file: a.csv }]');
    const c = loadServiceConfig(file, {}, { PLATESIEVE_NATS_USER: 'alice', PLATESIEVE_NATS_PASS: 'envpass' });
    expect(c.nats.user).toBe('bob');
    expect(c.nats.pass).toBe('filepass');
  });

  it('expands ${VAR} and ${VAR:-default} in string values, and $$ to $', () => {
    const file = write(
      'vars.yaml',
      [
        'nats: { servers: ["nats://${NATS_HOST}:4222"], pass: "${NATS_PASS}", user: "u$$1" }',
        'pool: { workers: "${WORKERS}" }',
        'hotlists: [{ file: "${LISTS:-lists}/ncic.csv", source: NCIC }]',
      ].join('\n'),
    );
    const c = loadServiceConfig(file, {}, { NATS_HOST: 'hub', NATS_PASS: 'pw', WORKERS: '6' });
    expect(c.nats.servers).toEqual(['nats://hub:4222']);
    expect(c.nats.pass).toBe('pw');
    expect(c.nats.user).toBe('u$1');
    expect(c.pool.workers).toBe(6);
    expect(c.hotlists[0].file).toBe(join(dir, 'lists/ncic.csv'));
  });

  it('names the key whose ${VAR} is not set', () => {
    const file = write('unset.yaml', 'nats: { token: "${NATS_TOKEN}" }\nhotlists: [{ file: a.csv }]');
    const err = configError(() => loadServiceConfig(file, {}, {}));
    expect(err.key).toBe('nats.token');
    expect(err.message).toBe('config: nats.token refers to ${NATS_TOKEN}, which is not set in the environment');
  });
});

describe('loadServiceConfig flags', () => {
  const file = () =>
    write(
      'flags.yaml',
      'nats: { servers: [nats://file:4222] }\npool: { workers: 2 }\nmetrics: { port: 1234, host: 127.0.0.1 }\nhotlists: [{ file: ncic.csv, source: NCIC }]\n',
    );

  it('lets flags win over the file', () => {
    const c = loadServiceConfig(file(), {
      nats: ['nats://x:1', 'nats://y:2,nats://z:3'],
      hotlists: ['local/a.csv', '/abs/b.csv'],
      workers: 0,
      metricsPort: 0,
      logLevel: 'warn',
      mode: 'jetstream',
    }, {});
    expect(c.nats.servers).toEqual(['nats://x:1', 'nats://y:2', 'nats://z:3']);
    expect(c.hotlists).toEqual([
      { file: resolve('local/a.csv'), source: 'LOCAL', maxAgeHours: 24, refreshMinutes: 5, minRetainedFraction: 0.5 },
      { file: '/abs/b.csv', source: 'LOCAL', maxAgeHours: 24, refreshMinutes: 5, minRetainedFraction: 0.5 },
    ]);
    expect(c.pool.workers).toBe(0);
    expect(c.metrics).toEqual({ port: 0, host: '127.0.0.1' });
    expect(c.log.level).toBe('warn');
    expect(c.mode).toBe('jetstream');
  });

  it('turns metrics back on with --metrics-port when the file turned them off', () => {
    const off = write('off.yaml', 'metrics: null\nhotlists: [{ file: a.csv }]');
    expect(loadServiceConfig(off, {}, {}).metrics).toBeNull();
    expect(loadServiceConfig(off, { metricsPort: 9100 }, {}).metrics).toEqual({ port: 9100, host: '127.0.0.1' });
  });

  it('validates flag values with the key they set', () => {
    const err = configError(() => loadServiceConfig(file(), { workers: -1 }, {}));
    expect(err.message).toBe('config: pool.workers must be an integer >= 0 (got -1)');
  });
});

describe('redactConfig', () => {
  it('hides passwords, tokens, seeds and URL credentials and keeps the rest', () => {
    const c = loadServiceConfig(undefined, { ...HOTLIST, nats: ['nats://alice:pw@hub:4222'] }, {
      PLATESIEVE_NATS_USER: 'alice',
      PLATESIEVE_NATS_PASS: 'pw',
      PLATESIEVE_NATS_TOKEN: 'tok',
      PLATESIEVE_NATS_NKEY_SEED_FILE: '/keys/seed.nk',
    });
    const r = redactConfig(c) as unknown as { nats: Record<string, unknown>; pool: ServiceConfig['pool'] };
    expect(r.nats.pass).toBe('[redacted]');
    expect(r.nats.token).toBe('[redacted]');
    expect(r.nats.nkeySeedFile).toBe('[redacted]');
    expect(r.nats.user).toBe('alice');
    expect(r.nats.servers).toEqual(['nats://[redacted]@hub:4222']);
    expect(r.pool).toEqual(c.pool);
    expect(JSON.stringify(r)).not.toMatch(/pw|tok"/);
    expect(c.nats.pass).toBe('pw'); // the original is untouched
  });
});

describe('natsConnectionOptions', () => {
  const base = (extra: Partial<ServiceConfig['nats']> = {}): ServiceConfig['nats'] => ({
    servers: ['nats://a:4222'],
    name: 'platesieve',
    maxReconnectAttempts: -1,
    reconnectTimeWaitMs: 250,
    ...extra,
  });

  it('sets servers, name and reconnect behaviour', () => {
    const o = natsConnectionOptions(base());
    expect(o).toEqual({
      servers: ['nats://a:4222'],
      name: 'platesieve',
      inboxPrefix: '_INBOX',
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: true,
    });
  });

  it('passes user and password, or a token', () => {
    expect(natsConnectionOptions(base({ user: 'u', pass: 'p' }))).toMatchObject({ user: 'u', pass: 'p' });
    expect(natsConnectionOptions(base({ token: 't' }))).toMatchObject({ token: 't' });
  });

  it('builds an authenticator from a creds file', () => {
    const creds = write(
      'user.creds',
      '-----BEGIN NATS USER JWT-----\neyJ0eXAiOiJKV1QifQ.e30.x\n------END NATS USER JWT------\n\n' +
        '-----BEGIN USER NKEY SEED-----\nSUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4\n------END USER NKEY SEED------\n',
    );
    const o = natsConnectionOptions(base({ credsFile: creds }));
    expect(typeof o.authenticator).toBe('function');
  });

  it('builds an authenticator from an nkey seed file', () => {
    const user = createUser();
    const seed = write('user.nk', new TextDecoder().decode(user.getSeed()) + '\n');
    const o = natsConnectionOptions(base({ nkeySeedFile: seed }));
    expect(typeof o.authenticator).toBe('function');
    const nonce = 'abc';
    const auth = (o.authenticator as (n?: string) => { nkey?: string; sig?: Uint8Array | string })(nonce);
    expect(auth.nkey).toBe(user.getPublicKey());
  });

  it('passes TLS files as nats.js expects, TLS with system CAs for an empty tls block', () => {
    const ca = write('ca.pem', 'x');
    const cert = write('cert.pem', 'x');
    const key = write('key.pem', 'x');
    expect(natsConnectionOptions(base({ tls: { caFile: ca, certFile: cert, keyFile: key } })).tls).toEqual({
      caFile: ca,
      certFile: cert,
      keyFile: key,
    });
    expect(natsConnectionOptions(base({ tls: {} })).tls).toEqual({});
  });

  it.each([
    [{ token: 't', user: 'u', pass: 'p' }, 'nats.token', /conflicts with nats.user\/nats.pass/],
    [{ credsFile: '/c', nkeySeedFile: '/s' }, 'nats.nkeySeedFile', /conflicts with nats.credsFile/],
    [{ token: 't', credsFile: '/c' }, 'nats.credsFile', /conflicts with nats.token/],
    [{ user: 'u' }, 'nats.pass', /both or neither/],
    [{ pass: 'p' }, 'nats.user', /both or neither/],
  ])('refuses conflicting or incomplete auth %o', (extra, key, message) => {
    const err = configError(() => natsConnectionOptions(base(extra)));
    expect(err.key).toBe(key);
    expect(err.message).toMatch(message);
  });

  it('refuses missing or malformed credential and TLS files, naming the key', () => {
    expect(configError(() => natsConnectionOptions(base({ credsFile: join(dir, 'none.creds') }))).key).toBe('nats.credsFile');
    expect(configError(() => natsConnectionOptions(base({ credsFile: write('x.creds', 'hello') }))).message).toMatch(
      /not a NATS credentials file/,
    );
    expect(configError(() => natsConnectionOptions(base({ nkeySeedFile: join(dir, 'none.nk') }))).key).toBe(
      'nats.nkeySeedFile',
    );
    expect(configError(() => natsConnectionOptions(base({ nkeySeedFile: write('bad.nk', 'SUNOTASEED') }))).message).toMatch(
      /does not hold a valid nkey seed/,
    );
    expect(configError(() => natsConnectionOptions(base({ tls: { caFile: join(dir, 'none.pem') } }))).key).toBe(
      'nats.tls.caFile',
    );
    expect(configError(() => natsConnectionOptions(base({ tls: { certFile: write('c2.pem', 'x') } }))).key).toBe(
      'nats.tls.keyFile',
    );
  });
});
