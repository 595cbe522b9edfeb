/**
 * PostgreSQL COPY text format (the `text` format of COPY FROM STDIN): one line a row, columns
 * separated by tabs, `\N` for NULL. Hand-written because it is the ingest hot path and is a few
 * lines: no per-value allocation beyond the output string, no CSV quoting rules to get wrong.
 */

// Backslash, tab, newline and carriage return are the only bytes COPY text treats specially;
// NUL cannot be stored in a PostgreSQL text value at all, so it becomes U+FFFD (the record's
// json column keeps it, escaped as \u0000, exactly as received).
// eslint-disable-next-line no-control-regex -- NUL is exactly what must be found
const SPECIAL = /[\\\t\n\r\u0000]/;

/** One value escaped for COPY text. */
export function copyText(value: string): string {
  if (!SPECIAL.test(value)) return value;
  // eslint-disable-next-line no-control-regex -- as above
  return value.replace(/[\\\t\n\r\u0000]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\ufffd'));
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
