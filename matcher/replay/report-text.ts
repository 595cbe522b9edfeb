/** The human form of a replay report: one table, a row per list and one of totals. */
import type { ReplayCounts, ReplayReport } from './replay.js';

const COLUMNS: ReadonlyArray<[keyof ReplayCounts, string]> = [
  ['raised', 'raised'],
  ['stored', 'stored'],
  ['confirmedKept', 'conf kept'],
  ['confirmedLost', 'conf LOST'],
  ['rejectedAvoided', 'rej avoided'],
  ['rejectedRaised', 'rej raised'],
  ['noActionKept', 'no-act kept'],
  ['noActionLost', 'no-act lost'],
  ['undisposedKept', 'undisp kept'],
  ['undisposedLost', 'undisp lost'],
  ['new', 'new'],
];

/** Lines of text describing `report` (no trailing newline). */
export function formatReplay(report: ReplayReport): string {
  const head = ['list', ...COLUMNS.map(([, h]) => h)];
  const rows = [...Object.entries(report.lists), ['TOTAL', report.totals] as const].map(([list, c]) => [list, ...COLUMNS.map(([k]) => String(c[k]))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    `replay ${new Date(report.from).toISOString()} .. ${new Date(report.to).toISOString()}: ${report.reads} reads (${report.invalid} invalid) in ${Math.round(report.ms)} ms`,
    line(head),
    ...rows.map(line),
    'conf LOST: confirmed alerts the candidate would not have raised. new: raised, not stored, no disposition known.',
  ].join('\n');
}
