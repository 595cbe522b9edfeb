/** Times on the wire: epoch milliseconds, or ISO 8601 strings on input (docs/contracts.md). */
import { OpsError } from './errors.js';

/** `value` as epoch ms; a 400 naming `key` when it is neither a number nor a parsable time. */
export function timeOf(key: string, value: number | string): number;
export function timeOf(key: string, value: number | string | undefined): number | undefined;
export function timeOf(key: string, value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new OpsError('ERR_BAD_REQUEST', `${key} must be epoch milliseconds or an ISO 8601 time, got ${JSON.stringify(value)}`);
  return ms;
}
