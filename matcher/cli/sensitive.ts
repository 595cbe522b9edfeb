/**
 * `platesieve sensitive request|list|approve|deny`: access to the reads of sensitive places
 * (docs/sensitive-places.md), always through the operations API as the logged-in user, who
 * must hold the role; there is no direct-database path, since every step is a person's
 * decision. A search then names the approval with `--sensitive-approval ID`.
 */
import { Command } from 'commander';
import type { SensitiveApproval } from '../sensitive/approvals.js';
import { apiClientFor, type ApiClient } from './api-client.js';
import { UsageError } from './errors.js';
import type { CommandIo } from './match.js';

const STATUSES = ['pending', 'approved', 'denied'] as const;

function clientOf(opts: { api?: string }): ApiClient {
  const c = apiClientFor(opts);
  if (c === undefined) throw new UsageError('sensitive-place approvals go through the operations API: run platesieve login --api <url> first');
  return c;
}

function summary(a: SensitiveApproval): string {
  const decided = a.decidedBy !== undefined ? `  ${a.status} by ${a.decidedBy}${a.expiresAt !== undefined ? ` until ${new Date(a.expiresAt).toISOString()}` : ''}` : `  ${a.status}`;
  return `${a.id}${decided}  ${a.tags.join(',')}  ${a.purpose}  case ${a.case}  by ${a.requestedBy} ${new Date(a.createdAt).toISOString()}`;
}

function tagsArg(value: string): string[] {
  return value.split(',').map((t) => t.trim()).filter((t) => t !== '');
}

/** Registers `platesieve sensitive`. */
export function registerSensitiveCommand(program: Command, io: CommandIo): void {
  const cmd = program.command('sensitive').description('access to reads of sensitive places (tagged cameras): requests and supervisor approvals (audited)');
  const api = (c: Command): Command => c.option('--api <url>', 'the operations API (default: the one you logged in to)');

  api(cmd.command('request')
    .description('ask a supervisor for access to reads of cameras with these tags, for a purpose and case (analyst, supervisor)')
    .requiredOption('--tags <list>', 'comma-separated tags: healthcare, place_of_worship, protest_site or a local one', tagsArg)
    .requiredOption('--purpose <code>', 'purpose code (docs/audit.md): a criminal investigation')
    .requiredOption('--case <number>', 'case number')
    .requiredOption('--nexus <text>', 'the clearly articulated nexus to activity that is or would be criminal'))
    .action(async (opts: { api?: string; tags: string[]; purpose: string; case: string; nexus: string }) => {
      if (opts.tags.length === 0) throw new UsageError('--tags: name at least one tag');
      const a = await clientOf(opts).request<SensitiveApproval>('POST', '/api/sensitive/requests', { tags: opts.tags, purpose: opts.purpose, case: opts.case, nexus: opts.nexus });
      io.stdout.write(`${summary(a)}\n`);
    });

  api(cmd.command('list').description('sensitive-place access requests, newest first').option('--status <status>', 'pending, approved or denied'))
    .action(async (opts: { api?: string; status?: string }) => {
      if (opts.status !== undefined && !(STATUSES as readonly string[]).includes(opts.status)) throw new UsageError('--status: pending, approved or denied');
      const { requests } = await clientOf(opts).request<{ requests: SensitiveApproval[] }>('GET', `/api/sensitive/requests${opts.status !== undefined ? `?status=${opts.status}` : ''}`);
      for (const a of requests) io.stdout.write(`${summary(a)}\n`);
      io.stderr.write(`sensitive: ${requests.length} requests\n`);
    });

  for (const decision of ['approve', 'deny'] as const) {
    api(cmd.command(`${decision} <id>`)
      .description(`${decision} a pending request (supervisor; never your own)`)
      .requiredOption('--note <text>', 'why: whether the nexus is clearly articulated'))
      .action(async (id: string, opts: { api?: string; note: string }) => {
        const a = await clientOf(opts).request<SensitiveApproval>('POST', `/api/sensitive/requests/${encodeURIComponent(id)}/${decision}`, { note: opts.note });
        io.stdout.write(`${summary(a)}\n`);
      });
  }
}
