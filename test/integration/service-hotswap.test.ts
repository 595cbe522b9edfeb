/**
 * Hotlist lifecycle in the running service: a new version of a 1M-entry hotlist is compiled
 * off the main thread and swapped in under continuous load; a version that looks truncated
 * is refused and audited while the old one stays in force.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { uniquePrefix, type NatsServerHandle } from '../helpers/nats-server.js';
import { collect, recordsOf, serviceSuite, sleep, startServiceProcess, waitFor, type ServiceProcess, type TempDir } from '../helpers/service-process.js';
import { generateHotlist } from '../../fixtures/generator.js';
import type { Alert, HotlistEntry } from '../../matcher/index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function writeNdjson(file: string, entries: readonly HotlistEntry[]): Promise<void> {
  // Written beside and renamed: a reader never sees a half-written file.
  const lines: string[] = [];
  for (const e of entries) lines.push(JSON.stringify(e));
  await writeFile(`${file}.tmp`, lines.join('\n') + '\n');
  await rename(`${file}.tmp`, file);
}

describe('hotlist swap in the running service', () => {
  let nc: NatsConnection;
  let tmp: TempDir;
  let server: NatsServerHandle;
  serviceSuite({ jetstream: false }, (s) => {
    ({ server, nc, tmp } = s);
  });

  it('swaps a 1M-entry hotlist under continuous load: every read recorded once, each matched against one version', async () => {
    const prefix = uniquePrefix();
    const file = join(tmp.dir, 'big.ndjson');
    const base = generateHotlist({ seed: 7, size: 1_000_000 });
    // Version A lists OLD1234; version B drops it and lists NEW5678 instead.
    const a = [...base, { id: 'OLD', plate: 'OLD1234', list: 'STOLEN_VEHICLE' }];
    const b = [...base, { id: 'NEW', plate: 'NEW5678', list: 'STOLEN_VEHICLE' }];
    await writeNdjson(file, a);
    const svc = await startServiceProcess({
      natsUrl: server.url,
      config: { subjects: { prefix }, hotlists: [{ file, maxAgeHours: 1e6, refreshMinutes: 0 }], suppression: { windowMs: 0 }, pool: { workers: 1, batchSize: 256, batchWaitMs: 2, maxInFlight: 4 } },
      readyTimeoutMs: 60_000,
    });
    const records = collect(nc, `${prefix}.records.>`).messages;
    const alerts = collect(nc, `${prefix}.alerts.>`).messages;

    let sent = 0;
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        for (let i = 0; i < 100; i++) {
          const plate = i % 2 === 0 ? 'OLD1234' : 'NEW5678';
          nc.publish(`${prefix}.reads.cam`, enc.encode(JSON.stringify({ id: `r${sent}`, plate, cameraId: `C${sent}` })));
          sent++;
        }
        await nc.flush();
        await sleep(5);
      }
    })();
    await sleep(500);
    await writeNdjson(file, b);
    svc.child.kill('SIGHUP');
    await waitFor(() => svc.logged('hotlist swapped'), 60_000, () => 'the service logged "hotlist swapped"');
    await sleep(500);
    publishing = false;
    await publisher;
    await waitFor(() => records.reduce((n, m) => n + recordsOf(m).length, 0) >= sent, 20_000, () => `records for all ${sent} reads`);

    const ids = records.flatMap((m) => recordsOf(m).map((r) => r.id));
    expect(ids.length).toBe(sent);
    expect(new Set(ids).size, 'no read recorded twice').toBe(sent);
    const got = alerts.map((m) => JSON.parse(dec.decode(m.data)) as Alert);
    const versions = [...new Set(got.map((x) => x.hotlistVersion))];
    expect(versions.length, 'alerts of both versions').toBe(2);
    const [va] = got.filter((x) => x.entryId === 'OLD').map((x) => x.hotlistVersion);
    const [vb] = got.filter((x) => x.entryId === 'NEW').map((x) => x.hotlistVersion);
    // OLD is alerted only under version A, NEW only under version B: no read met a mixed list.
    expect(got.filter((x) => x.entryId === 'OLD').every((x) => x.hotlistVersion === va)).toBe(true);
    expect(got.filter((x) => x.entryId === 'NEW').every((x) => x.hotlistVersion === vb)).toBe(true);
    expect(va).not.toBe(vb);
    // Each read alerted at most once.
    expect(new Set(got.map((x) => x.readId)).size).toBe(got.length);
    // Reads published after the swap are matched against B: the last OLD read has no alert.
    const lastOld = `r${sent - 2}`;
    expect(got.some((x) => x.readId === lastOld)).toBe(false);
    expect(got.some((x) => x.readId === `r${sent - 1}` && x.entryId === 'NEW')).toBe(true);
  }, 180_000);

  it('refuses a version that looks truncated, keeps the old one in force and audits the refusal', async () => {
    const prefix = uniquePrefix();
    const file = join(tmp.dir, 'small.ndjson');
    const audit = join(tmp.dir, 'audit.jsonl');
    const entries = generateHotlist({ seed: 3, size: 2000 });
    await writeNdjson(file, entries);
    const svc = await startServiceProcess({
      natsUrl: server.url,
      config: { subjects: { prefix }, hotlists: [{ file, maxAgeHours: 1e6, refreshMinutes: 0 }], audit: { file: audit, actor: 'test-runner' } },
    });
    await writeNdjson(file, entries.slice(0, 300));
    svc.child.kill('SIGHUP');
    await waitFor(() => svc.logged('hotlist load refused; the version in force stays'), 20_000, () => 'refusal logged');
    const alerts = collect(nc, `${prefix}.alerts.>`).messages;
    const victim = entries[1500];
    nc.publish(`${prefix}.reads.cam`, enc.encode(JSON.stringify({ id: 'after', plate: victim.plate, state: victim.state })));
    await waitFor(() => alerts.length > 0, 10_000, () => 'an alert from the version still in force');
    expect((JSON.parse(dec.decode(alerts[0].data)) as Alert).entryId).toBeDefined();
    await svc.stop('SIGTERM');
    const lines = (await readFile(audit, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { action: string; outcome: string; reason?: string; actor: string });
    expect(lines.map((l) => l.action)).toEqual(['log.created', 'hotlist.load', 'hotlist.refused']);
    expect(lines[2]).toMatchObject({ outcome: 'refused', actor: 'test-runner' });
    expect(lines[2].reason).toMatch(/fewer than 50% of the 2000 in force/);
  }, 60_000);

  const refusedLogs = (svc: ServiceProcess): number => svc.logs.filter((l) => l.msg === 'hotlist load refused; the version in force stays').length;
  const health = async (svc: ServiceProcess): Promise<{ http: number; status: string; reasons?: string[]; checks: { hotlistReload?: { consecutiveRefusals: number } } }> => {
    const res = await svc.http('/healthz');
    return { http: res.status, ...(JSON.parse(res.body) as { status: string; reasons?: string[]; checks: { hotlistReload?: { consecutiveRefusals: number } } }) };
  };

  it('reports degraded, with the reason, after hotlistRefusalsDegraded refused reloads in a row, and ok again after a swap', async () => {
    const prefix = uniquePrefix();
    const file = join(tmp.dir, 'degrade.ndjson');
    const entries = generateHotlist({ seed: 5, size: 2000 });
    await writeNdjson(file, entries);
    const svc = await startServiceProcess({
      natsUrl: server.url,
      config: { subjects: { prefix }, hotlists: [{ file, maxAgeHours: 1e6, refreshMinutes: 0 }], hotlistRefusalsDegraded: 2 },
    });
    expect((await health(svc)).status).toBe('ok');
    await writeNdjson(file, entries.slice(0, 300));
    svc.child.kill('SIGHUP');
    await waitFor(() => refusedLogs(svc) === 1, 20_000, () => 'first refusal');
    const once = await health(svc);
    expect(once.status).toBe('ok');
    expect(once.checks.hotlistReload?.consecutiveRefusals).toBe(1);
    svc.child.kill('SIGHUP');
    await waitFor(() => refusedLogs(svc) === 2, 20_000, () => 'second refusal');
    const twice = await health(svc);
    expect(twice.http).toBe(200);
    expect(twice.status).toBe('degraded');
    expect(twice.reasons?.join('\n')).toMatch(/hotlist reload refused 2 times in a row.*fewer than 50% of the 2000 in force/);
    await writeNdjson(file, entries);
    svc.child.kill('SIGHUP');
    await waitFor(() => svc.logged('hotlist swapped'), 20_000, () => 'hotlist swapped');
    const after = await health(svc);
    expect(after.status).toBe('ok');
    expect(after.reasons).toBeUndefined();
  }, 90_000);

  it('audits a refused file once per version, however many refresh ticks try it again', async () => {
    const prefix = uniquePrefix();
    const file = join(tmp.dir, 'ticks.ndjson');
    const audit = join(tmp.dir, 'ticks.audit.jsonl');
    const entries = generateHotlist({ seed: 9, size: 2000 });
    await writeNdjson(file, entries);
    const svc = await startServiceProcess({
      natsUrl: server.url,
      // A tick every 300 ms: each one finds the refused file newer than the version in force.
      config: { subjects: { prefix }, hotlists: [{ file, maxAgeHours: 1e6, refreshMinutes: 0.005 }], audit: { file: audit, actor: 'test-runner' } },
    });
    const refusedAudits = async (): Promise<Array<{ reason?: string }>> =>
      (await readFile(audit, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { action: string; reason?: string }).filter((l) => l.action === 'hotlist.refused');
    await writeNdjson(file, entries.slice(0, 300));
    await waitFor(() => refusedLogs(svc) >= 3, 30_000, () => 'three refresh ticks refused the same file');
    expect(await refusedAudits()).toHaveLength(1);
    // Another refused version is news: audited once more.
    const seen = refusedLogs(svc);
    await writeNdjson(file, entries.slice(0, 200));
    await waitFor(() => refusedLogs(svc) >= seen + 3, 30_000, () => 'three refresh ticks refused the second version');
    const audited = await refusedAudits();
    expect(audited).toHaveLength(2);
    expect(audited[1].reason).toMatch(/200 entries, fewer than 50%/);
    // Every tick still counts: health knows the reloads keep failing.
    expect((await health(svc)).status).toBe('degraded');
  }, 90_000);

  it('lists the same sources in platesieve_hotlist_entries and platesieve_hotlist_age_seconds, and drops a source that is gone', async () => {
    const prefix = uniquePrefix();
    const file = join(tmp.dir, 'sources.ndjson');
    const row = (i: number, source?: string): HotlistEntry => ({ id: `S${i}`, plate: `SRC${i}0`, list: 'STOLEN_VEHICLE', ...(source === undefined ? {} : { source }) });
    await writeNdjson(file, [row(1, 'NCIC'), row(2, 'NCIC'), row(3, 'NCIC'), row(4, 'CCIC'), row(5, 'CCIC'), row(6)]);
    const svc = await startServiceProcess({
      natsUrl: server.url,
      config: { subjects: { prefix }, hotlists: [{ file, source: 'LOCAL', maxAgeHours: 1e6, refreshMinutes: 0 }] },
    });
    const gauges = async (): Promise<{ entries: Map<string, number>; ages: Map<string, number> }> => {
      const { body } = await svc.http('/metrics');
      const bySource = (name: string): Map<string, number> => {
        const out = new Map<string, number>();
        for (const m of body.matchAll(new RegExp(`^${name}\\{source="([^"]*)"\\} (\\S+)$`, 'gm'))) out.set(m[1], Number(m[2]));
        return out;
      };
      return { entries: bySource('platesieve_hotlist_entries'), ages: bySource('platesieve_hotlist_age_seconds') };
    };
    let g = await gauges();
    expect([...g.entries.keys()].sort()).toEqual(['CCIC', 'LOCAL', 'NCIC']);
    expect([...g.ages.keys()].sort()).toEqual(['CCIC', 'LOCAL', 'NCIC']);
    expect(Object.fromEntries(g.entries)).toEqual({ NCIC: 3, CCIC: 2, LOCAL: 1 });

    await writeNdjson(file, [row(1, 'NCIC'), row(2, 'NCIC'), row(3, 'NCIC'), row(7, 'NCIC')]);
    svc.child.kill('SIGHUP');
    await waitFor(() => svc.logged('hotlist swapped'), 20_000, () => 'hotlist swapped');
    g = await gauges();
    expect([...g.entries.keys()].sort()).toEqual(['LOCAL', 'NCIC']);
    expect([...g.ages.keys()].sort()).toEqual(['LOCAL', 'NCIC']);
    expect(Object.fromEntries(g.entries)).toEqual({ NCIC: 4, LOCAL: 0 });
  }, 60_000);
});
