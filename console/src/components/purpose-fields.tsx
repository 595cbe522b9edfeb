/**
 * Purpose, case and reason: every access to stored data says why (docs/audit.md). The codes are
 * the server's allow-list; an investigative purpose needs a case number, and a window reaching
 * back more than a year needs a reason (Lakewood PP-9126 C.5), checked here before the server
 * refuses and audits it.
 */
import { PURPOSES, YEAR_MS } from '../contracts.js';

export interface PurposeValue {
  purpose: string;
  case: string;
  reason: string;
}

export const EMPTY_PURPOSE: PurposeValue = { purpose: '', case: '', reason: '' };

/** What is missing, or '' when the fields are complete for a window starting at `from`. */
export function purposeProblem(v: PurposeValue, from: number | undefined, now: number, reasonAlways = false): string {
  if (v.purpose === '') return 'Choose a purpose: every search of stored data is logged with its purpose.';
  const p = PURPOSES.find((x) => x.code === v.purpose);
  if (p?.investigative === true && v.case.trim() === '') return `${v.purpose} is investigative: give the case number.`;
  if (reasonAlways && v.reason.trim() === '') return 'Give a reason.';
  if (from !== undefined && from < now - YEAR_MS && v.reason.trim() === '') return 'The window reaches data older than one year: give a reason (Lakewood PP-9126 C.5).';
  return '';
}

export function PurposeFields({ value, onChange, reasonNeeded, reasonWhy = 'data older than a year', idPrefix }: { value: PurposeValue; onChange: (v: PurposeValue) => void; reasonNeeded: boolean; reasonWhy?: string; idPrefix: string }) {
  const p = PURPOSES.find((x) => x.code === value.purpose);
  return (
    <fieldset class="purpose">
      <legend>Why (logged)</legend>
      <label for={`${idPrefix}-purpose`}>
        Purpose *
      </label>
      <select id={`${idPrefix}-purpose`} name="purpose" required value={value.purpose} onChange={(e) => onChange({ ...value, purpose: e.currentTarget.value })}>
        <option value="">— choose —</option>
        {PURPOSES.map((x) => (
          <option key={x.code} value={x.code}>
            {x.code} — {x.description}
          </option>
        ))}
      </select>
      <label for={`${idPrefix}-case`}>Case number{p?.investigative === true ? ' *' : ''}</label>
      <input id={`${idPrefix}-case`} name="case" required={p?.investigative === true} value={value.case} onInput={(e) => onChange({ ...value, case: e.currentTarget.value })} />
      <label for={`${idPrefix}-reason`}>Reason{reasonNeeded ? ` *${reasonWhy !== '' ? ` (${reasonWhy})` : ''}` : ''}</label>
      <input id={`${idPrefix}-reason`} name="reason" required={reasonNeeded} value={value.reason} onInput={(e) => onChange({ ...value, reason: e.currentTarget.value })} />
    </fieldset>
  );
}
