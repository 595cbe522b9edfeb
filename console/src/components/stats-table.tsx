/** One grouping of the disposition statistics (by list, tier or score band). */
import { pct } from '../format.js';

export interface GroupStats {
  alerts: number;
  dispositioned: number;
  confirmed: number;
  rejected: number;
  noAction: number;
  confirmedRate: number | null;
  rejectedRate: number | null;
}

export function StatsTable({ title, groups }: { title: string; groups: Record<string, GroupStats> }) {
  const keys = Object.keys(groups).sort();
  return (
    <div class="table-wrap stats">
      <table>
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">{title.replace(/^By /, '')}</th>
            <th scope="col">Alerts</th>
            <th scope="col">Decided</th>
            <th scope="col">Confirmed</th>
            <th scope="col">Rejected</th>
            <th scope="col">No action</th>
            <th scope="col">Confirmed %</th>
            <th scope="col">Rejected %</th>
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
                <th scope="row">{k}</th>
                <td>{g.alerts}</td>
                <td>{g.dispositioned}</td>
                <td>{g.confirmed}</td>
                <td>{g.rejected}</td>
                <td>{g.noAction}</td>
                <td>{pct(g.confirmedRate)}</td>
                <td>{pct(g.rejectedRate)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
