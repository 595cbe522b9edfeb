/**
 * Readings of the service from outside: its Prometheus `/metrics` text parsed, and the
 * resident set size of its process.
 */
import { readFileSync } from 'node:fs';

/** Sum of a metric's samples whose labels contain every `labels` pair; NaN when absent. */
export function metricValue(text: string | undefined, name: string, labels: Record<string, string> = {}): number {
  if (text === undefined) return Number.NaN;
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null || m[1] !== name) continue;
    const l = m[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))) continue;
    sum += Number(m[3]);
    found = true;
  }
  return found ? sum : Number.NaN;
}

/** Every sample of a metric by its label text (for counters with a `reason`/`code` label). */
export function metricSamples(text: string | undefined, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  if (text === undefined) return out;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m !== null && m[1] === name) out[m[2] ?? ''] = Number(m[3]);
  }
  return out;
}

/** Resident set size of a process from /proc (bytes); NaN where there is no /proc. */
export function procRss(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m === null ? Number.NaN : Number(m[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}
