/**
 * PostgreSQL COPY text format (the `text` format of COPY FROM STDIN): one line a row, columns
 * separated by tabs, `\N` for NULL. Hand-written because it is the ingest hot path and is a few
 * lines: no per-value allocation beyond the output string, no CSV quoting rules to get wrong.
 */

// Backslash, tab, newline and carriage return are the only bytes COPY text treats specially.
const SPECIAL = /[\\\t\n\r]/;

/** One value escaped for COPY text. */
export function copyText(value: string): string {
  if (!SPECIAL.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** A nullable text column. */
export function copyNullable(value: string | undefined | null): string {
  return value === undefined || value === null ? '\\N' : copyText(value);
}

/** A `text[]` column (an array literal, then COPY-escaped); NULL when absent. */
export function copyArray(values: readonly string[] | undefined | null): string {
  if (values === undefined || values === null) return '\\N';
  const items = values.map((v) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`);
  return copyText(`{${items.join(',')}}`);
}

/** A `bytea` column in hex form. */
export function copyBytes(data: Uint8Array): string {
  return `\\\\x${Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex')}`;
}

/** The UTC day (YYYY-MM-DD) of an epoch-ms time. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
