/**
 * Prometheus metrics of one operations API instance, on a registry of its own (two servers in
 * one process, as in the tests, must not collide): requests by route and status, latency by
 * route, logins by outcome. Routes are the registered patterns (`/api/holds/:id/release`),
 * never the raw URL, so ids and usernames do not become label values.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The API's series. */
export class OpsMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly latency: Histogram<'route' | 'method'>;
  private readonly logins: Counter<'outcome'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'platesieve_ops_' });
    this.requests = new Counter({ name: 'platesieve_ops_requests_total', help: 'HTTP requests by route pattern, method and status', labelNames: ['route', 'method', 'status'], registers: [this.registry] });
    this.latency = new Histogram({ name: 'platesieve_ops_request_duration_seconds', help: 'HTTP request latency by route pattern and method', labelNames: ['route', 'method'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
    this.logins = new Counter({ name: 'platesieve_ops_logins_total', help: 'Login attempts by outcome (ok, refused, limited)', labelNames: ['outcome'], registers: [this.registry] });
  }

  /** One answered request; `route` is the pattern, or `unmatched` for a 404 of the router. */
  request(route: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ route, method, status: String(status) });
    this.latency.observe({ route, method }, seconds);
  }

  login(outcome: 'ok' | 'refused' | 'limited'): void {
    this.logins.inc({ outcome });
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
