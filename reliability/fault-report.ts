/**
 * How the fault table reports: a few lines per row as it finishes, and the markdown table at
 * the end.
 */
import type { RowResult } from './fault-run.js';

/** Seconds with one decimal, or "never". */
function fmtS(x: number | null): string {
  return x === null ? 'never' : `${x.toFixed(1)} s`;
}

/** The lines printed when a row finished (`elapsedS`: how long the row took). */
export function rowSummaryLines(r: RowResult, elapsedS: number): string[] {
  const lines = [
    `  ${r.pass ? 'pass' : 'FAIL'}: ${r.readsPublished} reads, ${r.recordsStored} records, alerts ${r.alertsDelivered}/${r.alertsExpected}, dup ${r.duplicates.records}/${r.duplicates.alerts}, lost ${r.lost.records}/${r.lost.alerts}, recovery ${fmtS(r.recovery.firstRecordS)} / ${fmtS(r.recovery.caughtUpS)} (${elapsedS.toFixed(0)} s)`,
  ];
  for (const n of r.notes) lines.push(`  note: ${n}`);
  if (Object.keys(r.serviceLog).length > 0) lines.push(`  service log: ${JSON.stringify(r.serviceLog)}`);
  for (const c of r.crashes) lines.push(`  crash: ${JSON.stringify(c)}`);
  return lines;
}

/** The fault table in markdown, one line per row that ran. */
export function markdownTable(rows: readonly RowResult[]): string {
  const lines = [
    '| row | reads published | records stored | alerts expected | alerts delivered | duplicates (records / alerts) | lost (records / alerts) | recovery: next record / caught up | result |',
    '|---|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const r of rows) {
    const result = r.pass ? (r.crashes.length > 0 ? `pass, ${r.crashes.length} crash(es)` : 'pass') : `**FAIL**${r.crashes.length > 0 ? `, ${r.crashes.length} crash(es)` : ''}${r.unexpectedAlerts > 0 ? `, ${r.unexpectedAlerts} unexpected alerts` : ''}`;
    lines.push(
      `| ${r.row} | ${r.readsPublished} | ${r.recordsStored} | ${r.alertsExpected} | ${r.alertsDelivered} | ${r.duplicates.records} / ${r.duplicates.alerts} | ${r.lost.records} / ${r.lost.alerts} | ${fmtS(r.recovery.firstRecordS)} / ${fmtS(r.recovery.caughtUpS)} | ${result} |`,
    );
  }
  return lines.join('\n');
}
