/**
 * Secrets around the NATS connection (issue 10): URL credentials used and stripped, URLs and
 * messages redacted, the `nats` section loaded for the CLI from the same sources as the
 * service, and the backoff of repeated connection warnings.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../matcher/errors.js';
import type { NatsConfig } from '../../matcher/service/config.js';
import { natsConnectionOptions } from '../../matcher/service/connection.js';
import { loadNatsConfig } from '../../matcher/service/nats-config.js';
import { redactText, redactUrl } from '../../matcher/service/redact.js';
import { RepeatLog } from '../../matcher/service/repeat-log.js';
import { natsSecrets, splitUrlCredentials } from '../../matcher/service/url-credentials.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'platesieve-natssec-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const nats = (extra: Partial<NatsConfig>): NatsConfig => ({
  servers: ['nats://a:4222'],
  name: 'platesieve',
  maxReconnectAttempts: -1,
  reconnectTimeWaitMs: 500,
  ...extra,
});

describe('redactUrl and redactText', () => {
  it('masks user:password@ and token@ in URLs with or without a scheme', () => {
    expect(redactUrl('nats://alice:s3cret@hub:4222')).toBe('nats://[redacted]@hub:4222');
    expect(redactUrl('tls://tok3n@hub:4222')).toBe('tls://[redacted]@hub:4222');
    expect(redactUrl('alice:s3cret@hub:4222')).toBe('[redacted]@hub:4222');
    expect(redactUrl('nats://alice:p@ss@hub:4222')).toBe('nats://[redacted]@hub:4222');
    expect(redactUrl('nats://hub:4222')).toBe('nats://hub:4222');
    expect(redactUrl('hub:4222')).toBe('hub:4222');
  });

  it('masks URLs inside a message and every literal secret, longest first', () => {
    const text = 'cannot reach nats://bob:pw1234@x:1 and ws://t0k@y:2; server said pw1234 / pw1234extra';
    expect(redactText(text, ['pw1234', 'pw1234extra', undefined, ''])).toBe(
      'cannot reach nats://[redacted]@x:1 and ws://[redacted]@y:2; server said [redacted] / [redacted]',
    );
  });
});

describe('credentials in server URLs', () => {
  it('splits user:password@ and token@ off, percent-decoded, keeping the rest of each URL', () => {
    expect(splitUrlCredentials(['nats://alice:s%40cret@a:4222', 'nats://alice:s%40cret@b:4222/', 'nats://c:4222'])).toEqual({
      servers: ['nats://a:4222', 'nats://b:4222/', 'nats://c:4222'],
      user: 'alice',
      pass: 's@cret',
      from: 0,
    });
    expect(splitUrlCredentials(['t0ken@a:4222'])).toEqual({ servers: ['a:4222'], token: 't0ken', from: 0 });
    expect(splitUrlCredentials(['nats://a:4222'])).toEqual({ servers: ['nats://a:4222'] });
  });

  it('refuses differing credentials and malformed encoding without quoting them', () => {
    for (const servers of [['nats://u:Secret1@a:1', 'nats://u:Secret2@b:2'], ['nats://u:%zzSecret3@a:1']]) {
      let err: unknown;
      try {
        splitUrlCredentials(servers);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).not.toMatch(/Secret/);
    }
  });

  it('uses URL credentials to authenticate and strips them from the servers nats.js sees', () => {
    const o = natsConnectionOptions(nats({ servers: ['nats://alice:s3cret@a:4222', 'b:4222'] }));
    expect(o).toMatchObject({ servers: ['nats://a:4222', 'b:4222'], user: 'alice', pass: 's3cret' });
    expect(JSON.stringify(o.servers)).not.toContain('s3cret');
    expect(natsConnectionOptions(nats({ servers: ['nats://tok@a:4222'] }))).toMatchObject({ servers: ['nats://a:4222'], token: 'tok' });
  });

  it('refuses URL credentials together with another kind of authentication', () => {
    expect(() => natsConnectionOptions(nats({ servers: ['nats://u:p@a:1'], token: 't' }))).toThrow(
      /nats\.servers\[0\] carries credentials .* and nats\.token is set/,
    );
  });

  it('lists every secret of a configuration for redaction', () => {
    expect(natsSecrets({ servers: ['nats://u:urlpass@a:1'], token: 'tok' }).sort()).toEqual(['tok', 'urlpass']);
  });
});

describe('loadNatsConfig (the hotlist CLI)', () => {
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it("reads only the file's nats section, with ${VAR}, paths against the file's folder", () => {
    const f = file(
      'svc.yaml',
      'nats:\n  servers: [nats://hub:4222]\n  user: ops\n  pass: ${OPS_PASS}\n  tls: { caFile: ca.pem }\npool: { workers: "${UNSET_ELSEWHERE}" }\n',
    );
    const c = loadNatsConfig(f, {}, { OPS_PASS: 'pw' });
    expect(c).toMatchObject({ servers: ['nats://hub:4222'], user: 'ops', pass: 'pw', tls: { caFile: join(dir, 'ca.pem') } });
  });

  it('takes PLATESIEVE_NATS_* for keys the file leaves unset, and flags over both', () => {
    const env = { PLATESIEVE_NATS_USER: 'envuser', PLATESIEVE_NATS_PASS: 'envpass', PLATESIEVE_NATS_URL: 'nats://x:1,nats://y:2' };
    expect(loadNatsConfig(undefined, {}, env)).toMatchObject({ servers: ['nats://x:1', 'nats://y:2'], user: 'envuser', pass: 'envpass' });
    const c = loadNatsConfig(undefined, { servers: ['nats://z:3'], user: 'flaguser', caFile: 'ca.pem', certFile: 'c.pem', keyFile: 'k.pem' }, env);
    expect(c).toMatchObject({ servers: ['nats://z:3'], user: 'flaguser', pass: 'envpass' });
    expect(c.tls).toEqual({ caFile: resolve('ca.pem'), certFile: resolve('c.pem'), keyFile: resolve('k.pem') });
  });

  it('reports a bad nats key with its full name', () => {
    const f = file('bad.json', '{ "nats": { "tokn": "x" } }');
    expect(() => loadNatsConfig(f, {}, {})).toThrow(/config: nats\.tokn is not a known setting/);
  });
});

describe('RepeatLog', () => {
  it('logs attempts 1, 2, 4, 8 ... and at least once per interval, counting those not logged', () => {
    let now = 0;
    const log = new RepeatLog(30_000, () => now);
    const logged: Array<[number, number]> = [];
    // Every 500 ms for 70 s: 141 attempts.
    for (let i = 0; i <= 140; i++, now += 500) {
      const line = log.attempt();
      if (line !== undefined) logged.push([line.attempt, line.notLogged]);
    }
    expect(logged.slice(0, 7)).toEqual([[1, 0], [2, 0], [4, 1], [8, 3], [16, 7], [32, 15], [64, 31]]);
    // After 64 (at 31.5 s) the interval rules: 30 s later, then the power of two 128.
    expect(logged.slice(7)).toEqual([[124, 59], [128, 3]]);
    log.reset();
    expect(log.attempt()).toEqual({ attempt: 1, notLogged: 0 });
  });
});
