/**
 * The periodic audit report as text for a person (`platesieve audit report --format text`):
 * the counts as short tables, the anomalies, then the chain head to copy elsewhere.
 */
import type { AuditReport } from './report-types.js';

const iso = (ms: number): string => new Date(ms).toISOString();

function table(rows: string[][]): string {
  if (rows.length === 0) return '  (none)\n';
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}`.trimEnd()).join('\n') + '\n';
}

const pairs = (o: { [key: string]: number }): string => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(', ');

/** The report as text: a heading per section, aligned columns, one anomaly per line. */
export function formatAuditReport(report: AuditReport): string {
  const r = report;
  const s = r.searches;
  let out = `Audit report ${iso(r.from)} to ${iso(r.to)} (end exclusive)\n`;
  out += `${r.records} records in the period\n\n`;
  out += 'By user\n';
  out += table(r.byUser.length === 0 ? [] : [['user', 'roles', 'actions', 'refused', 'by action', 'by purpose'], ...r.byUser.map((u) => [u.actor, u.roles.join(','), String(u.total), String(u.refused), pairs(u.byAction), pairs(u.byPurpose)])]);
  out += '\nBy action\n';
  out += table(r.byAction.length === 0 ? [] : [['action', 'count', 'refused'], ...r.byAction.map((a) => [a.action, String(a.count), String(a.refused)])]);
  out += '\nBy purpose\n';
  out += table(r.byPurpose.length === 0 ? [] : [['purpose', 'count'], ...r.byPurpose.map((p) => [p.purpose, String(p.count)])]);
  out += '\nBy role\n';
  out += table(r.byRole.length === 0 ? [] : [['role', 'actions', 'users'], ...r.byRole.map((x) => [x.role, String(x.count), String(x.actors)])]);
  out += `\nSearches: ${s.total} (${s.ok} done, ${s.refused} refused); ${s.withCase} with a case number, ${s.withoutCase} without; ${s.empty} found nothing; ${s.results} results in all\n`;
  out += `  reaching data older than one year: ${s.olderThanOneYear} (${s.olderThanOneYearWithReason} with a reason)\n`;
  out += `Exports: ${r.exports.total} (${r.exports.refused} refused), ${r.exports.records} records exported\n`;
  out += `Holds: ${r.holds.added} added, ${r.holds.released} released, ${r.holds.listed} lists, ${r.holds.refused} refused\n`;
  out += `Refusals: ${r.refusals.total}${r.refusals.total === 0 ? '' : ` (by rule: ${r.refusals.byCode.map((c) => `${c.code} ${c.count}`).join(', ')}; by action: ${r.refusals.byAction.map((c) => `${c.action} ${c.count}`).join(', ')})`}\n`;
  out += `Logins: ${r.logins.ok} ok, ${r.logins.failed} failed, ${r.logins.logouts} logouts, ${r.logins.sessionRefused} requests refused for want of a session or role\n`;
  if (r.logins.byUser.length > 0) out += table([['user', 'ok', 'failed'], ...r.logins.byUser.map((l) => [l.actor, String(l.ok), String(l.failed)])]);
  out += `\nAnomalies: ${r.anomalies.length === 0 ? 'none' : r.anomalies.length}\n`;
  for (const a of r.anomalies) {
    const seqs = a.seqs.length > 20 ? `${a.seqs.slice(0, 20).join(', ')}, ... (${a.seqs.length})` : a.seqs.join(', ');
    out += `  ${a.kind}  ${a.actor}  ${a.detail}  [seq ${seqs}]\n`;
  }
  const c = r.chain;
  out += `\nChain: ${c.verified ? 'verified from its first record' : `NOT VERIFIED: ${c.problem ?? 'unknown problem'}`}\n`;
  if (c.logId !== undefined) out += `  log id ${c.logId}\n`;
  out += `  head   ${c.head === '' ? '(none)' : c.head} (seq ${c.lastSeq}): keep it elsewhere, check it later with audit verify --head\n`;
  return out;
}
