/** Display helpers: local times with seconds, countdowns, rates. */

export function time(ms: number | undefined | null): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** `mm:ss` left, or `-mm:ss` past the deadline (hours shown when needed). */
export function countdown(msLeft: number): string {
  const neg = msLeft < 0;
  const s = Math.floor(Math.abs(msLeft) / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(h > 0 ? 2 : 1, '0');
  const body = `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
  return neg ? `-${body}` : body;
}

export function pct(v: number | null | undefined): string {
  return typeof v === 'number' ? `${(v * 100).toFixed(1)}%` : '—';
}

export function num(v: number | null | undefined, digits = 2): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—';
}

/** A `datetime-local` input's value as epoch ms (local time), or undefined when empty or bad. */
export function fromLocalInput(v: string): number | undefined {
  if (v.trim() === '') return undefined;
  const t = new Date(v).getTime();
  return Number.isFinite(t) ? t : undefined;
}

/** Epoch ms as a `datetime-local` input value. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/** A field of a free-form record as table text (objects as JSON, absent as empty). */
export function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v) ?? '';
}
