/**
 * The last hour of the services (GET /api/dashboard, refreshed every 15 s): reads and alerts
 * per second, latency p50/p99, consumer lag, hotlist age per source, the health of each
 * service and the store; and the disposition statistics of the last 30 days (by list, tier,
 * score band, camera and confusion pair, and the score threshold per list).
 */
import { useEffect } from 'preact/hooks';
import type { PageProps } from '../app.js';
import { api, query } from '../api.js';
import { Chart } from '../components/chart.js';
import { STATS_ROLES, allows } from '../contracts.js';
import { StatsTable, ThresholdsTable, type AlertStats } from '../components/stats-table.js';
import { time } from '../format.js';
import { useLoad } from '../use-load.js';

interface Dashboard {
  intervalSeconds: number;
  sources: Array<{ name: string; url: string; up: boolean; health: string; lastError?: string }>;
  series: {
    t: number[];
    readsPerSec: Array<number | null>;
    alertsPerSec: Array<number | null>;
    latencyP50Ms: Array<number | null>;
    latencyP99Ms: Array<number | null>;
    consumerLag: Array<number | null>;
    hotlistAgeS: Record<string, Array<number | null>>;
  };
}

type Stats = AlertStats;

const REFRESH_MS = 15_000;
const PALETTE = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989'];
const STATS_DAYS = 30;

export function DashboardPage({ session }: PageProps) {
  // The statistics are not every role's (an operator's is refused, and the refusal audited):
  // not even asked for then.
  const seesStats = allows(session.roles, STATS_ROLES);
  const dash = useLoad(() => api<Dashboard>('GET', '/api/dashboard'));
  const stats = useLoad(() => {
    if (!seesStats) return Promise.resolve(null);
    const to = Date.now();
    return api<Stats>('GET', `/api/alerts/stats${query({ from: to - STATS_DAYS * 86_400_000, to })}`);
  });
  useEffect(() => {
    const t = setInterval(() => {
      dash.reload();
      stats.reload();
    }, REFRESH_MS);
    return () => clearInterval(t);
  }, []);

  const d = dash.data;
  const s = d?.series;
  const sources = Object.keys(s?.hotlistAgeS ?? {});
  return (
    <section aria-labelledby="dash-title" class="dashboard">
      <div class="toolbar">
        <h1 id="dash-title">Dashboard</h1>
        <span class="muted">last hour{d !== null ? `, every ${d.intervalSeconds} s` : ''}</span>
      </div>
      <p class="error" role="alert">
        {dash.error}
      </p>
      {d !== null && s !== undefined ? (
        <>
          <div class="sources" data-testid="sources">
            {d.sources.map((x) => (
              <div key={x.name} class={`source ${x.up ? x.health : 'down'}`} title={x.lastError ?? x.url}>
                <span class="dot" aria-hidden="true" />
                <strong>{x.name}</strong> {x.up ? x.health : 'down'}
                {x.lastError !== undefined ? <small> — {x.lastError}</small> : null}
              </div>
            ))}
          </div>
          <div class="charts" data-testid="charts">
            <Chart title="Throughput" unit="/s" t={s.t} series={[{ label: 'reads/s', values: s.readsPerSec, color: PALETTE[0] }, { label: 'alerts/s', values: s.alertsPerSec, color: PALETTE[1], right: true }]} />
            <Chart title="Latency" unit="ms" t={s.t} series={[{ label: 'p50', values: s.latencyP50Ms, color: PALETTE[2] }, { label: 'p99', values: s.latencyP99Ms, color: PALETTE[3] }]} />
            <Chart title="Consumer lag" unit="messages" t={s.t} series={[{ label: 'pending', values: s.consumerLag, color: PALETTE[4] }]} />
            <Chart title="Hotlist age per source" unit="s" t={s.t} series={sources.map((name, i) => ({ label: name, values: s.hotlistAgeS[name], color: PALETTE[i % PALETTE.length] }))} />
          </div>
        </>
      ) : dash.loading ? (
        <p class="muted">Loading…</p>
      ) : null}
      {seesStats ? <h2 id="stats-title">Dispositions, last {STATS_DAYS} days</h2> : null}
      <p class="error collapse" role="alert">
        {stats.error}
      </p>
      {stats.data !== null ? (
        <div data-testid="stats">
          <p>
            {stats.data.total.alerts} alerts, {stats.data.total.dispositioned} decided ({stats.data.total.confirmed} confirmed, {stats.data.total.rejected} rejected){' '}
            <span class="muted">as of {time(Date.now())}</span>
          </p>
          <div class="stats-grid">
            <StatsTable title="By list" label="list" groups={stats.data.byList} testId="stats-list" />
            <StatsTable title="By tier" label="tier" groups={stats.data.byTier} testId="stats-tier" />
            <StatsTable title="By score band" label="score band" groups={stats.data.byScoreBand} testId="stats-band" />
            <StatsTable title="By camera" label="camera" groups={stats.data.byCamera} testId="stats-camera" />
            <StatsTable title="By confusion (read > listed character, ∅ none)" label="pair" groups={stats.data.byConfusion} testId="stats-confusion" confusion />
            <ThresholdsTable thresholds={stats.data.thresholds} keep={stats.data.keep} />
          </div>
        </div>
      ) : null}
    </section>
  );
}
