/**
 * The parts every list page repeats: the status filter of a request list, and a table with its
 * header row and the "nothing here" row, so holds, sharing, sensitive places and the audit log
 * look and read alike.
 */
import type { ComponentChildren } from 'preact';

/** A status filter: `''` stands for every status. */
export function StatusSelect<S extends string>(props: { statuses: readonly S[]; value: S; onChange: (s: S) => void; name?: string }) {
  return (
    <label class="inline">
      Status
      <select name={props.name ?? 'status'} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value as S)}>
        {props.statuses.map((s) => (
          <option key={s} value={s}>
            {s === '' ? 'all' : s}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * A scrolling table: `columns` are the header cells; `empty` (shown when `rows` is an empty,
 * loaded list) is the text of the one row spanning them all. `rows` null: not loaded yet.
 */
export function ListTable(props: { testId: string; class?: string; columns: readonly string[]; rows: readonly unknown[] | null; empty: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table data-testid={props.testId} class={props.class}>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows !== null && props.rows.length === 0 ? (
            <tr>
              <td colSpan={props.columns.length} class="muted">
                {props.empty}
              </td>
            </tr>
          ) : null}
          {props.children}
        </tbody>
      </table>
    </div>
  );
}
