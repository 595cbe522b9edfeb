/**
 * The ops server serving the browser console (matcher/ops/console.ts) from a temporary build:
 * index.html at `/` and at client-side routes, hashed assets with a long cache, the strict
 * security headers, the API's own 404s untouched, and a clear 404 when the console is not built.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog } from '../../matcher/audit/pg-log.js';
import { pgAuditSource } from '../../matcher/ops/audit-source.js';
import { CONSOLE_CSP } from '../../matcher/ops/console.js';
import { createOpsServer, type OpsServer } from '../../matcher/ops/server.js';
import { closeOpsDatabase, openOpsDatabase } from '../helpers/ops.js';
import type { TestDatabase } from '../helpers/postgres.js';

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/x.js"></script></head><body><div id="app"></div></body></html>';
const SCRIPT = 'console.log("platesieve console");';

let db: TestDatabase;
let pool: pg.Pool;
let audit: PgAuditLog;
let root: string;
let served: OpsServer;
let unbuilt: OpsServer;
let off: OpsServer;

beforeAll(async () => {
  ({ db, pool, audit } = await openOpsDatabase('ops_console', 4));
  root = await mkdtemp(join(tmpdir(), 'platesieve-console-'));
  await mkdir(join(root, 'assets'));
  await writeFile(join(root, 'index.html'), INDEX);
  await writeFile(join(root, 'assets', 'x.js'), SCRIPT);
  await writeFile(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  const common = { pool, audit, auditSource: pgAuditSource(pool), loginsPerMinute: 0 };
  served = await createOpsServer({ ...common, console: { root } });
  unbuilt = await createOpsServer({ ...common, console: { root: join(root, 'not-built') } });
  off = await createOpsServer({ ...common, console: false });
}, 60_000);

afterAll(async () => {
  await served?.close();
  await unbuilt?.close();
  await off?.close();
  await closeOpsDatabase({ db, pool, audit });
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

function expectSecurityHeaders(headers: Record<string, unknown>): void {
  expect(headers['content-security-policy']).toBe(CONSOLE_CSP);
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');
}

describe('console serving', () => {
  it('serves index.html at / with the strict CSP and no long cache', async () => {
    const r = await served.app.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.body).toBe(INDEX);
    expectSecurityHeaders(r.headers);
    expect(CONSOLE_CSP).toBe("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'");
    expect(r.headers['cache-control']).toBe('no-cache');
  });

  it('answers client-side routes with index.html', async () => {
    for (const url of ['/search', '/alerts', '/alerts/abc-123?tab=map', '/dashboards']) {
      const r = await served.app.inject({ method: 'GET', url });
      expect([url, r.statusCode]).toEqual([url, 200]);
      expect(r.body).toBe(INDEX);
      expectSecurityHeaders(r.headers);
    }
  });

  it('serves hashed assets with a long immutable cache, and top-level files as they are', async () => {
    const r = await served.app.inject({ method: 'GET', url: '/assets/x.js' });
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe(SCRIPT);
    expect(r.headers['content-type']).toMatch(/javascript/);
    expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expectSecurityHeaders(r.headers);
    const missing = await served.app.inject({ method: 'GET', url: '/assets/nope.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.body).not.toBe(INDEX);
    const icon = await served.app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['content-type']).toMatch(/svg/);
  });

  it('leaves the API, health, metrics and the OpenAPI document alone', async () => {
    for (const url of ['/api/unknown', '/api', '/api/alerts/nope/nope']) {
      const r = await served.app.inject({ method: 'GET', url });
      expect([url, r.statusCode]).toEqual([url, 404]);
      expect(JSON.parse(r.body)).toMatchObject({ error: 'ERR_NOT_FOUND' });
    }
    expect((await served.app.inject({ method: 'POST', url: '/search' })).statusCode).toBe(404);
    expect((await served.app.inject({ method: 'GET', url: '/api/me' })).statusCode).toBe(401);
    const health = await served.app.inject({ method: 'GET', url: '/healthz' });
    expect(JSON.parse(health.body)).toHaveProperty('status');
    expect((await served.app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/platesieve_ops_/);
    const doc = JSON.parse((await served.app.inject({ method: 'GET', url: '/openapi.json' })).body) as { paths: Record<string, unknown> };
    // The console's routes are pages, not API: not in the document.
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/api/') && p !== '/healthz' && p !== '/metrics')).toEqual([]);
  });

  it('answers / with a clear 404 when the console is not built, and the API still works', async () => {
    const r = await unbuilt.app.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(404);
    const body = JSON.parse(r.body) as { error: string; message: string };
    expect(body.error).toBe('ERR_NOT_FOUND');
    expect(body.message).toMatch(/console is not built/);
    expect((await unbuilt.app.inject({ method: 'GET', url: '/search' })).statusCode).toBe(404);
    expect((await unbuilt.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(JSON.parse((await unbuilt.app.inject({ method: 'GET', url: '/api/me' })).body)).toMatchObject({ error: 'ERR_UNAUTHENTICATED' });
  });

  it('serves nothing with ops.console false', async () => {
    const r = await off.app.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(404);
    expect(JSON.parse(r.body)).toMatchObject({ error: 'ERR_NOT_FOUND' });
  });
});
