/**
 * The disposition statistics (GET /api/alerts/stats, matcher/dispositions/stats.ts): one table
 * per grouping (list, tier, score band, camera, confusion) and the per-list score thresholds.
 * Numbers are right-aligned in tabular digits; the tables sit in a grid whose columns are never
 * narrower than a table's content needs (styles.css `.stats-grid`).
 */
import { Fragment } from 'preact';
import { num, pct } from '../format.js';

// The server's own types, imported as types only: nothing of the server enters the bundle, and
// a change of the statistics' shape fails the console's typecheck instead of its pages.
import type { AlertStats, GroupStats, ListThreshold } from '../../../matcher/dispositions/stats.js';

export type { AlertStats, GroupStats, ListThreshold };

/**
 * A group key: a long one may wrap after an underscore (A_LONG_<wbr>LOCAL_LIST) when its table
 * is narrow, and never at a hyphen (a score band 0.7-0.8, a camera cam-north-1 stay whole).
 */
function Key({ k }: { k: string }) {
  // A key as long as the longest list code (SUPERVISED_RELEASE) stays whole: the headers wrap first.
  const parts = k.length <= 18 ? [k] : k.split(/(?<=_)/);
  return (
    <>
      {parts.map((p, i) => (
        <Fragment key={i}>
          {i > 0 ? <wbr /> : null}
          <span class="nowrap">{p}</span>
        </Fragment>
      ))}
    </>
  );
}

/** A confusion pair as matcher/dispositions/confusion.ts writes it (`8>B`; `>7` an inserted 7), with ∅ for the missing side. */
export function confusionLabel(k: string): string {
  const [read = '', listed = ''] = k.split('>');
  return `${read === '' ? '∅' : read} > ${listed === '' ? '∅' : listed}`;
}

export function StatsTable({ title, label, groups, testId, confusion = false }: { title: string; label: string; groups: Record<string, GroupStats>; testId?: string; confusion?: boolean }) {
  const keys = Object.keys(groups).sort();
  return (
    <div class="table-wrap stats" data-testid={testId}>
      <table>
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">{label}</th>
            <th scope="col" class="num">Alerts</th>
            <th scope="col" class="num">Decided</th>
            <th scope="col" class="num">Confirmed</th>
            <th scope="col" class="num">Rejected</th>
            <th scope="col" class="num">No action</th>
            <th scope="col" class="num">Confirmed rate</th>
            <th scope="col" class="num">Rejected rate</th>
          </tr>
        </thead>
        <tbody>
          {keys.length === 0 ? (
            <tr>
              <td colSpan={8} class="muted">
                No alerts in the period.
              </td>
            </tr>
          ) : null}
          {keys.map((k) => {
            const g = groups[k];
            return (
              <tr key={k}>
                <th scope="row" class="key">
                  {confusion ? <span class="nowrap">{confusionLabel(k)}</span> : <Key k={k} />}
                </th>
                <td class="num">{g.alerts}</td>
                <td class="num">{g.dispositioned}</td>
                <td class="num">{g.confirmed}</td>
                <td class="num">{g.rejected}</td>
                <td class="num">{g.noAction}</td>
                <td class="num">{pct(g.confirmedRate)}</td>
                <td class="num">{pct(g.rejectedRate)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Per list: the highest score threshold that still keeps `keep` of the confirmed alerts. */
export function ThresholdsTable({ thresholds, keep }: { thresholds: readonly ListThreshold[]; keep: number }) {
  return (
    <div class="table-wrap stats" data-testid="stats-thresholds">
      <table>
        <caption>Score threshold per list (keeps at least {pct(keep)} of confirmed alerts)</caption>
        <thead>
          <tr>
            <th scope="col">list</th>
            <th scope="col" class="num">Threshold</th>
            <th scope="col" class="num">Confirmed kept</th>
            <th scope="col" class="num">Rejected removed</th>
          </tr>
        </thead>
        <tbody>
          {thresholds.length === 0 ? (
            <tr>
              <td colSpan={4} class="muted">
                No alerts in the period.
              </td>
            </tr>
          ) : null}
          {thresholds.map((t) => (
            <tr key={t.list}>
              <th scope="row" class="key">
                <Key k={t.list} />
              </th>
              <td class="num">{t.threshold === null ? <span class="muted">none confirmed</span> : num(t.threshold)}</td>
              <td class="num">
                {t.confirmedKept} of {t.confirmed}
              </td>
              <td class="num">
                {t.rejectedRemoved} of {t.rejected}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
