/**
 * `platesieve share request|list|approve|deny|export`: sharing with other agencies
 * (docs/sharing.md), always through the operations API as the logged-in user, who must hold
 * the role; there is no direct-database path, since every step is a person's decision.
 */
import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import type { ShareManifest } from '../sharing/export.js';
import type { ShareRequest } from '../sharing/requests.js';
import { apiClientFor, type ApiClient } from './api-client.js';
import { UsageError } from './errors.js';
import { timeArg } from './hold.js';
import type { CommandIo } from './match.js';

function clientOf(opts: { api?: string }): ApiClient {
  const c = apiClientFor(opts);
  if (c === undefined) throw new UsageError('sharing goes through the operations API: run platesieve login --api <url> first');
  return c;
}

function summary(r: ShareRequest): string {
  const missing = r.missing.length > 0 ? ` (missing: ${r.missing.join(', ')})` : '';
  return `${r.id}  ${r.status}${missing}  ${r.agency}${r.federal ? ' [federal]' : ''}  ${r.requester}  ${r.purpose}  case ${r.case}  by ${r.createdBy} ${new Date(r.createdAt).toISOString()}`;
}

function limitArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 1_000_000) throw new InvalidArgumentError('expected a whole number from 1 to 1000000.');
  return n;
}

/** Registers `platesieve share`. */
export function registerShareCommand(program: Command, io: CommandIo): void {
  const share = program.command('share').description('sharing stored reads with other agencies: requests, approvals, exports (audited)');
  const api = (c: Command): Command => c.option('--api <url>', 'the operations API (default: the one you logged in to)');

  api(share.command('request')
    .description('record another agency\'s request for the reads of a plate or pattern in a window (analyst, supervisor)')
    .requiredOption('--agency <name>', 'the requesting agency')
    .option('--federal', 'the agency is federal: Clear Creek 424.4 (criminal investigations only; County Attorney notice recorded)')
    .requiredOption('--requester <name>', 'the person of that agency who asked')
    .requiredOption('--purpose <code>', 'purpose code (docs/audit.md)')
    .requiredOption('--case <number>', 'case number')
    .option('--reason <text>', 'why; required when the window reaches reads older than one year')
    .option('--plate <plate>', 'the plate asked for')
    .option('--pattern <pattern>', 'or a partial plate')
    .requiredOption('--from <time>', 'first read time (ISO 8601 or epoch ms)', timeArg)
    .requiredOption('--to <time>', 'last read time (ISO 8601 or epoch ms)', timeArg)
    .option('--limit <n>', 'most reads exported', limitArg))
    .action(async (opts: { api?: string; agency: string; federal?: boolean; requester: string; purpose: string; case: string; reason?: string; plate?: string; pattern?: string; from: number; to: number; limit?: number }) => {
      if ((opts.plate === undefined) === (opts.pattern === undefined)) throw new UsageError('give either --plate or --pattern');
      if (opts.from > opts.to) throw new UsageError('--from is after --to');
      const r = await clientOf(opts).request<ShareRequest>('POST', '/api/sharing/requests', {
        agency: opts.agency, federal: opts.federal === true, requester: opts.requester, purpose: opts.purpose, case: opts.case, reason: opts.reason,
        query: { plate: opts.plate, pattern: opts.pattern, from: opts.from, to: opts.to, limit: opts.limit },
      });
      io.stdout.write(`${summary(r)}\n`);
    });

  api(share.command('list').description('sharing requests, newest first').option('--status <status>', 'pending, approved, denied or exported'))
    .action(async (opts: { api?: string; status?: string }) => {
      if (opts.status !== undefined && !['pending', 'approved', 'denied', 'exported'].includes(opts.status)) throw new UsageError('--status: pending, approved, denied or exported');
      const { requests } = await clientOf(opts).request<{ requests: ShareRequest[] }>('GET', `/api/sharing/requests${opts.status !== undefined ? `?status=${opts.status}` : ''}`);
      for (const r of requests) io.stdout.write(`${summary(r)}\n`);
      io.stderr.write(`share: ${requests.length} requests\n`);
    });

  api(share.command('approve <id>')
    .description('record an approval step (supervisor; never your own request)')
    .requiredOption('--note <text>', 'why; for --county-attorney: who was notified, when and how')
    .option('--county-attorney', 'record the County Attorney notice a federal request needs (424.4) instead of the supervisor approval'))
    .action(async (id: string, opts: { api?: string; note: string; countyAttorney?: boolean }) => {
      const r = await clientOf(opts).request<ShareRequest>('POST', `/api/sharing/requests/${encodeURIComponent(id)}/approve`, { note: opts.note, kind: opts.countyAttorney === true ? 'county-attorney-notice' : 'supervisor' });
      io.stdout.write(`${summary(r)}\n`);
    });

  api(share.command('deny <id>').description('deny a pending request (supervisor; never your own)').requiredOption('--note <text>', 'why'))
    .action(async (id: string, opts: { api?: string; note: string }) => {
      const r = await clientOf(opts).request<ShareRequest>('POST', `/api/sharing/requests/${encodeURIComponent(id)}/deny`, { note: opts.note });
      io.stdout.write(`${summary(r)}\n`);
    });

  api(share.command('export <id>')
    .description('export an approved request (supervisor): writes the NDJSON to --out and the manifest to <out>.manifest.json')
    .requiredOption('--out <file>', 'the NDJSON file to write')
    .option('--again', 'fetch the export made earlier (byte-identical) instead of making it'))
    .action(async (id: string, opts: { api?: string; out: string; again?: boolean }) => {
      const path = `/api/sharing/requests/${encodeURIComponent(id)}/export`;
      const out = await clientOf(opts).request<{ manifest: ShareManifest; ndjson: string }>(opts.again === true ? 'GET' : 'POST', path);
      await writeFile(opts.out, out.ndjson, { flag: 'wx' });
      await writeFile(`${opts.out}.manifest.json`, `${JSON.stringify(out.manifest, null, 2)}\n`, { flag: 'wx' });
      io.stderr.write(`share: ${out.manifest.counts.total} reads to ${opts.out}, sha256 ${out.manifest.sha256}; manifest in ${opts.out}.manifest.json\n`);
    });
}
