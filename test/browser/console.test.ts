/**
 * The operations console in a real headless Chromium (Debian's, driven by playwright-core)
 * against the real stack (stack.ts): login with TOTP, an alert published on NATS shown within
 * a second and dispositioned in two clicks (and by keyboard), searches with and without a
 * purpose, a page refused to a role, the dashboard's uPlot charts and statistics tables, a
 * sensitive-place approval requested, decided and used in a search, the audit chain check.
 * With PLATESIEVE_SCREENSHOTS=1 each page is saved to docs/console/*.png (1280x800, and the
 * alerts page and the dashboard statistics at a tablet's 820x1180).
 *
 * Without chromium these tests fail rather than skip: the console is a feature, and a
 * machine that cannot check it should say so. .ci/run installs it.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/service-process.js';
import { CLINIC_CAMERA, CLINIC_PLATE, PASSWORD, PREFIX, startStack, type Stack } from './stack.js';

const CHROMIUM = process.env.PLATESIEVE_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = process.env.PLATESIEVE_SCREENSHOTS === '1';
const SHOT_DIR = join(import.meta.dirname, '..', '..', 'docs', 'console');
const DESKTOP = { width: 1280, height: 800 };
const TABLET = { width: 820, height: 1180 };
const enc = new TextEncoder();

let stack: Stack;
let browser: Browser;
const contexts: BrowserContext[] = [];
let op: Page;
let ana: Page;
let sup: Page;
let opRequests: string[] = [];
const pageErrors: string[] = [];

async function newPage(): Promise<Page> {
  // A context of its own per user: its own sessionStorage, as two workstations.
  const ctx = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
  contexts.push(ctx);
  const page = await ctx.newPage();
  // Script errors and CSP violations (Chromium logs those as console errors). Refused API
  // calls log "Failed to load resource": those are the tests' own refusals.
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SHOT_DIR, `${name}.png`) });
}

async function login(page: Page, username: string, code?: string): Promise<void> {
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await page.fill('input[name=totp]', code ?? stack.totp(username));
  await page.click('button[type=submit]');
}

async function navTitles(page: Page): Promise<string[]> {
  return page.locator('nav a').allTextContents();
}

/** An API call from the page with its session token (what a user could do from the console). */
async function pageFetch(page: Page, method: string, path: string, body?: unknown): Promise<number> {
  return page.evaluate(async ({ method, path, body }) => {
    const s = JSON.parse(sessionStorage.getItem('platesieve.session') ?? '{}') as { token?: string };
    const headers: Record<string, string> = { authorization: `Bearer ${s.token ?? ''}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return r.status;
  }, { method, path, body });
}

/** The statistics tables whose content is wider than their box (a column cut off or scrolled away). */
async function clippedStatsTables(page: Page): Promise<string[]> {
  return page.locator('[data-testid=stats] .table-wrap').evaluateAll((wraps) =>
    wraps.filter((w) => w.scrollWidth > w.clientWidth + 1).map((w) => `${w.querySelector('caption')?.textContent ?? '?'}: ${w.scrollWidth} px in ${w.clientWidth} px`),
  );
}

/** Scrolls the statistics heading to just under the sticky header (or as far as the page goes). */
async function scrollToStats(page: Page): Promise<void> {
  await page.locator('#stats-title').evaluate((h) => {
    const header = document.querySelector('header')?.getBoundingClientRect().height ?? 0;
    scrollTo(0, h.getBoundingClientRect().top + scrollY - header - 8);
  });
}

/** The cameras of the search results shown, sorted. */
async function resultCameras(page: Page): Promise<string[]> {
  return (await page.locator('[data-testid=search-results] tbody tr td:nth-child(7)').allTextContents()).sort();
}

/** Fills and sends the Sensitive places form; resolves with the new request's id. */
async function requestSensitive(page: Page, tag: string, purpose: string, caseNo: string, nexus: string): Promise<string> {
  await page.check(`input[name=tag-${tag}]`);
  await page.selectOption('#sensitive-purpose', purpose);
  await page.fill('#sensitive-case', caseNo);
  await page.fill('#sensitive-nexus', nexus);
  await page.click('[data-testid=sensitive-submit]');
  await expect.poll(() => page.textContent('[data-testid=sensitive-status]')).toMatch(/Request sens-\S+ recorded/);
  const id = /Request (sens-\S+) recorded/.exec((await page.textContent('[data-testid=sensitive-status]')) ?? '')?.[1];
  if (id === undefined) throw new Error('no request id shown');
  await page.waitForSelector(`[data-approval-id="${id}"]`);
  return id;
}

function alert(alertId: string, plate: string, listed: string, priority: number, match: string, score: number): Record<string, unknown> {
  return {
    alertId, readId: `read-${alertId}`, plate, matchedPlate: plate, hotlistPlate: listed, state: 'CA', hotlistState: 'CA', ts: Date.now(), cameraId: 'cam-north-1', agency: 'A1',
    entryId: `entry-${alertId}`, list: 'STOLEN_VEHICLE', priority, source: 'NCIC', match, distance: match === 'fuzzy' ? 1 : 0, score, imageRef: `s3://alpr-images/A1/${alertId}.jpg`,
    hotlistVersion: 'v1', hotlistAgeS: 42,
    verify: `OCR-equivalent match: read ${plate}, listed ${listed}; confirm each confusable character. Confirm the plate visually against the image. Confirm the record is still active with the entering agency (NCIC) before acting. An alert is a lead, never grounds for a stop on its own.`,
  };
}

/** Resolves in the page with Date.now() once a row of `alertId` is in the DOM; installed before the publish. */
async function watchFor(page: Page, alertId: string): Promise<void> {
  await page.evaluate((id) => {
    const w = window as unknown as Record<string, Promise<number>>;
    w[`seen-${id}`] = new Promise<number>((resolve) => {
      const found = (): boolean => document.querySelector(`[data-alert-id="${id}"]`) !== null;
      if (found()) return resolve(Date.now());
      const mo = new MutationObserver(() => {
        if (!found()) return;
        mo.disconnect();
        resolve(Date.now());
      });
      mo.observe(document.body, { childList: true, subtree: true });
    });
  }, alertId);
}

async function seenAt(page: Page, alertId: string): Promise<number> {
  return page.evaluate((id) => (window as unknown as Record<string, Promise<number>>)[`seen-${id}`], alertId);
}

async function publishAlert(a: Record<string, unknown>): Promise<number> {
  await stack.nc.jetstream().publish(`${PREFIX}.alerts.A1`, enc.encode(JSON.stringify(a)));
  return Date.now();
}

async function stored(alertId: string): Promise<void> {
  await waitFor(async () => (await stack.pool.query('SELECT 1 FROM platesieve.alerts WHERE alert_id = $1', [alertId])).rowCount === 1, 20_000, () => `alert ${alertId} stored`);
}

async function dispositionOf(alertId: string): Promise<{ outcome: string; reason: string | null; by: string } | undefined> {
  const r = await stack.pool.query<{ outcome: string; reason: string | null; by: string }>('SELECT outcome, reason, by FROM platesieve.dispositions WHERE alert_id = $1', [alertId]);
  return r.rows[0];
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium; .ci/run does) or set PLATESIEVE_CHROMIUM`);
  stack = await startStack();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
}, 60_000);

describe('operations console', { timeout: 120_000 }, () => {
  it('logs an operator in with TOTP and shows only the operator pages', async () => {
    op = await newPage();
    op.on('request', (r) => opRequests.push(new URL(r.url()).pathname));
    // Counts the tones the page starts: headless Chromium has no speaker to listen to.
    await op.addInitScript(() => {
      const w = window as unknown as { tones: number; AudioContext: typeof AudioContext };
      w.tones = 0;
      const Base = w.AudioContext;
      w.AudioContext = class extends Base {
        override createOscillator(): OscillatorNode {
          w.tones++;
          return super.createOscillator();
        }
      };
    });
    await op.goto(`${stack.url}/alerts`);
    await op.waitForSelector('input[name=totp]');
    await shot(op, 'login');
    await login(op, 'op', '000000');
    await expect.poll(() => op.textContent('[data-testid=login-error]')).toContain('ERR_AUTH_TOTP_INVALID');
    await login(op, 'op');
    await op.waitForSelector('nav');
    expect(await navTitles(op)).toEqual(['Alerts', 'Dashboard']);
    expect(new URL(op.url()).pathname).toBe('/alerts');
    expect(await op.evaluate(() => sessionStorage.getItem('platesieve.session'))).toContain('"username":"op"');
  });

  it('shows an alert published on NATS within a second, without moving the selected one, and confirms it in two clicks', async () => {
    await op.waitForSelector('[data-testid=feed-state].open', { timeout: 20_000 });
    const first = alert(`al-${Date.now()}`, '7A8C123', '7ABC123', 1, 'ocr', 0.93);
    const id = String(first.alertId);
    await watchFor(op, id);
    // The baseline, in the same run: a raw nats.js subscriber doing nothing, on the same subject.
    const raw = stack.nc.subscribe(`${PREFIX}.alerts.A1`, { max: 1 });
    const rawAt = (async () => {
      for await (const _ of raw) return Date.now();
      return NaN;
    })();
    await stack.nc.flush();
    const sentAt = Date.now();
    const ackAt = await publishAlert(first);
    const visibleAt = await seenAt(op, id);
    // From the JetStream acknowledgement to the row in the page: the issue's one second. The
    // figures are printed for the record (a requirement of the issue, not a speed benchmark).
    process.stderr.write(`console: alert ${id} visible ${visibleAt - ackAt} ms after the publish ack; from the publish: page ${visibleAt - sentAt} ms, raw subscriber ${(await rawAt) - sentAt} ms\n`);
    expect(visibleAt - ackAt, `alert visible ${visibleAt - ackAt} ms after the publish ack`).toBeLessThanOrEqual(1000);
    // Priority 1 sounds (two tones).
    const tones = (): Promise<number> => op.evaluate(() => (window as unknown as { tones: number }).tones);
    await expect.poll(tones).toBe(2);
    const row = op.locator(`[data-alert-id="${id}"]`);
    await expect.poll(() => row.locator('[data-testid=timer]').textContent()).toMatch(/^\d{1,2}:\d{2}$/);

    // Select it, then let another arrive above it: the selected row stays where it was.
    await row.click();
    const before = await row.boundingBox();
    const second = alert(`al-${Date.now()}-b`, '5XYZ77', '5XYZ777', 4, 'fuzzy', 0.71);
    await watchFor(op, String(second.alertId));
    await publishAlert(second);
    await seenAt(op, String(second.alertId));
    const after = await row.boundingBox();
    expect(after?.y).toBeCloseTo(before?.y ?? -1, 0);
    await expect.poll(() => op.textContent('[data-testid=announce]')).toContain('5XYZ77');
    expect(await tones()).toBe(2); // priority 4: silent
    await op.click('[data-testid=mute]');
    expect(await op.evaluate(() => localStorage.getItem('platesieve.muted'))).toBe('1');
    await op.click('[data-testid=mute]');
    expect(await op.evaluate(() => localStorage.getItem('platesieve.muted'))).toBe('0');
    expect(await op.locator('[data-testid=alert-detail] .plate-big .diff').count()).toBe(2);
    if (SHOTS) {
      await op.click('text=1 new above');
      await shot(op, 'alerts');
    }

    await stored(id);
    await op.click('[data-testid=confirm]');
    await op.click('[data-testid=confirm-yes]');
    await expect.poll(() => dispositionOf(id), { timeout: 10_000 }).toEqual({ outcome: 'confirmed', reason: null, by: 'op' });
    await expect.poll(() => op.textContent('[data-testid=disposition-done]')).toContain('confirmed');

    // The keyboard: k up to the newer alert, r, 1 (misread).
    await stored(String(second.alertId));
    await op.locator(`[data-alert-id="${id}"]`).focus();
    await op.keyboard.press('k');
    await op.keyboard.press('r');
    await op.keyboard.press('1');
    await expect.poll(() => dispositionOf(String(second.alertId)), { timeout: 10_000 }).toEqual({ outcome: 'rejected', reason: 'misread', by: 'op' });

    if (SHOTS) {
      await op.setViewportSize(TABLET);
      await op.locator(`[data-alert-id="${id}"]`).click();
      await shot(op, 'alerts-tablet');
      await op.setViewportSize(DESKTOP);
    }
  });

  it('refuses the audit page to an operator without calling its API, and the API refuses too', async () => {
    opRequests = [];
    await op.goto(`${stack.url}/audit`);
    await expect.poll(() => op.textContent('[data-testid=refused]')).toContain('Not permitted for your role');
    expect(opRequests.filter((p) => p.startsWith('/api/audit'))).toEqual([]);
    expect(await pageFetch(op, 'GET', '/api/audit')).toBe(403);
    await shot(op, 'refused');
  });

  it('renders the dashboard with uPlot charts', async () => {
    await op.click('nav a[href="/dashboard"]');
    await expect.poll(() => op.locator('[data-testid=charts] canvas').count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(4);
    await expect.poll(() => op.textContent('[data-testid=sources]')).toContain('store');
    expect(await op.textContent('[data-testid=sources]')).toContain('serve-1');
    // Not the operator's: the statistics are neither shown nor asked for.
    expect(await op.locator('[data-testid=stats]').count()).toBe(0);
    expect(opRequests.filter((p) => p.startsWith('/api/alerts/stats'))).toEqual([]);
  });

  it('blocks a search without a purpose, and returns hits with one; holds and sharing work', async () => {
    ana = await newPage();
    const searches: string[] = [];
    ana.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/search') searches.push(r.postData() ?? '');
    });
    await ana.goto(`${stack.url}/search`);
    await login(ana, 'ana');
    await ana.waitForSelector('[data-testid=search-form]');
    expect(await navTitles(ana)).toEqual(['Alerts', 'Search', 'Holds', 'Sharing', 'Sensitive places', 'Dashboard']);
    await ana.fill('input[name=plate]', '7ABC123');
    await ana.click('[data-testid=search-submit]');
    await expect.poll(() => ana.textContent('[data-testid=search-error]')).toContain('Choose a purpose');
    expect(searches).toEqual([]);
    // The server refuses it as well: the form is a convenience, not the control.
    expect(await pageFetch(ana, 'POST', '/api/search', { plate: '7ABC123', from: Date.now() - 86_400_000 * 7, to: Date.now() })).toBe(400);

    await ana.selectOption('#search-purpose', 'STOLEN_VEHICLE');
    await ana.click('[data-testid=search-submit]');
    await ana.waitForSelector('[data-testid=search-results] tbody tr');
    const plates = await ana.locator('[data-testid=search-results] tbody tr td:nth-child(2)').allTextContents();
    expect(plates.sort()).toEqual(['7A8C123', '7ABC123', '7ABC123']);
    expect(JSON.parse(searches.at(-1) ?? '{}') as Record<string, unknown>).toMatchObject({ plate: '7ABC123', purpose: 'STOLEN_VEHICLE' });
    const [csv] = await Promise.all([ana.waitForEvent('download'), ana.click('text=Download CSV')]);
    const text = readFileSync(await csv.path(), 'utf8');
    expect(text.split('\r\n')[0]).toBe('id,ts,time,plate,matchedPlate,match,score,distance,state,cameraId,agency');
    expect(text.split('\r\n').filter((l) => l !== '')).toHaveLength(4);
    await shot(ana, 'search');

    await ana.click('nav a[href="/holds"]');
    await ana.fill('input[name=plate]', '7ABC123');
    await ana.selectOption('#hold-purpose', 'VEHICLE_THEFT');
    await ana.fill('#hold-case', 'CASE-2026-114');
    await ana.fill('#hold-reason', 'evidence for the theft case');
    await ana.click('text=Create hold');
    await expect.poll(() => ana.textContent('[data-testid=holds-table]')).toContain('CASE-2026-114');
    expect(await ana.textContent('[role=status]')).toMatch(/Hold \S+ created: 2 records held/);
    await shot(ana, 'holds');

    await ana.click('nav a[href="/sharing"]');
    await ana.click('summary');
    await ana.fill('input[name=agency]', 'Lakewood PD');
    await ana.fill('input[name=requester]', 'Det. R. Ortiz #4471');
    await ana.fill('input[name=share-plate]', '7ABC123');
    await ana.selectOption('#share-purpose', 'VEHICLE_THEFT');
    await ana.fill('#share-case', 'LPD-26-0912');
    await ana.click('text=Record request');
    await expect.poll(() => ana.textContent('[data-testid=sharing-table]')).toContain('Lakewood PD');
    await shot(ana, 'sharing');

    await ana.click('nav a[href="/dashboard"]');
    await ana.waitForSelector('[data-testid=stats]');
    await expect.poll(() => ana.locator('[data-testid=charts] canvas').count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(4);
    expect(await ana.textContent('[data-testid=stats]')).toContain('STOLEN_VEHICLE');
    expect(await ana.textContent('[data-testid=stats-camera]')).toContain('cam-north-1');
    expect(await ana.textContent('[data-testid=stats-confusion]')).toContain('8 > B');
    expect(await ana.textContent('[data-testid=stats-thresholds]')).toContain('STOLEN_VEHICLE');
    expect(await ana.locator('[data-testid=stats] table').count()).toBe(6);
    // Every column of every statistics table is visible: none wider than its box.
    expect(await clippedStatsTables(ana)).toEqual([]);
    if (SHOTS) {
      // A few more samples (one a second) so the saved picture has lines, not dots.
      await ana.waitForTimeout(10_000);
      await ana.reload();
      await ana.waitForSelector('[data-testid=stats]');
      await shot(ana, 'dashboard');
      await scrollToStats(ana);
      await shot(ana, 'dashboard-stats');
    }
    await ana.setViewportSize(TABLET);
    expect(await clippedStatsTables(ana)).toEqual([]);
    if (SHOTS) {
      await scrollToStats(ana);
      await shot(ana, 'dashboard-stats-tablet');
    }
    await ana.setViewportSize(DESKTOP);
  });

  it('lets a supervisor approve, export and download a sharing request, and release a hold', async () => {
    sup = await newPage();
    await sup.goto(`${stack.url}/sharing`);
    await login(sup, 'sup');
    await sup.waitForSelector('[data-testid=sharing-table]');
    expect(await navTitles(sup)).toEqual(['Alerts', 'Search', 'Holds', 'Sharing', 'Sensitive places', 'Dashboard', 'Audit']);
    const button = (name: string): ReturnType<Page['getByRole']> => sup.getByRole('button', { name, exact: true });
    await button('Decide…').click();
    await sup.fill('.inline-form input', 'theft case confirmed with Lakewood PD');
    await button('Approve').click();
    await expect.poll(() => sup.textContent('[data-testid=sharing-status]')).toContain('approval recorded');
    await button('Export').click();
    const [file] = await Promise.all([sup.waitForEvent('download'), button('Download export').click()]);
    const lines = readFileSync(await file.path(), 'utf8').split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(3);
    await expect.poll(() => sup.textContent('[data-testid=sharing-status]')).toMatch(/sha256 [0-9a-f]{64}/);

    await sup.click('nav a[href="/holds"]');
    await button('Release…').click();
    await sup.fill('.inline-form input', 'case closed');
    await button('Release').click();
    await expect.poll(() => sup.textContent('[role=status]')).toMatch(/Hold \S+ released/);
  });

  it('lets an analyst request a sensitive-place approval, a supervisor approve it (never their own), and the search use it', async () => {
    const CASE = 'C-26-1187';
    // Without an approval the read of the clinic's camera is withheld, and the answer says so.
    await ana.click('nav a[href="/search"]');
    await ana.fill('input[name=plate]', CLINIC_PLATE);
    await ana.selectOption('#search-purpose', 'FELONY_INVESTIGATION');
    await ana.fill('#search-case', CASE);
    await ana.click('[data-testid=search-submit]');
    await ana.waitForSelector('[data-testid=withheld]');
    expect(await resultCameras(ana)).toEqual(['cam-north-1']);

    // The analyst asks; the form stops an incomplete request before the server sees it.
    await ana.click('nav a[href="/sensitive"]');
    await ana.waitForSelector('[data-testid=sensitive-form]');
    expect(await ana.locator('#sensitive-purpose option').allTextContents()).not.toContainEqual(expect.stringMatching(/^(STOLEN_VEHICLE|CIVIL_LITIGATION|INTERNAL_AFFAIRS) /));
    await ana.click('[data-testid=sensitive-submit]');
    await expect.poll(() => ana.textContent('[data-testid=sensitive-error]')).toContain('Choose at least one sensitive-place tag');
    const id = await requestSensitive(ana, 'healthcare', 'FELONY_INVESTIGATION', CASE, "the shooting suspect was driven to the St. Luke's emergency entrance minutes after the shooting (witness statement, report 26-1187)");
    const asked = ana.locator(`[data-approval-id="${id}"]`);
    expect(await asked.locator('[data-testid=approval-status]').textContent()).toContain('pending');
    expect(await asked.getByRole('button', { name: 'Decide…' }).count()).toBe(0);
    expect(await pageFetch(ana, 'POST', `/api/sensitive/requests/${id}/approve`, { note: 'my own' })).toBe(403);

    // The supervisor's own request: no Decide button, and the API refuses it (separation of duties).
    await sup.click('nav a[href="/sensitive"]');
    await sup.waitForSelector('[data-testid=sensitive-form]');
    const ownId = await requestSensitive(sup, 'protest_site', 'ASSAULT', 'C-26-0977', 'the assault on the officer at the rally was filmed; the suspect vehicle left the site (report 26-0977)');
    const own = sup.locator(`[data-approval-id="${ownId}"]`);
    expect(await own.getByRole('button', { name: 'Decide…' }).count()).toBe(0);
    expect(await own.textContent()).toContain('awaiting another supervisor');
    expect(await pageFetch(sup, 'POST', `/api/sensitive/requests/${ownId}/approve`, { note: 'mine' })).toBe(403);

    // The analyst's request: decided by the supervisor, with a note.
    const theirs = sup.locator(`[data-approval-id="${id}"]`);
    await sup.getByRole('button', { name: 'Refresh' }).click();
    await theirs.getByRole('button', { name: 'Decide…' }).click();
    await theirs.locator('input[name=note]').fill('nexus articulated: witness statement in report 26-1187');
    await shot(sup, 'sensitive-decide');
    await theirs.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => sup.textContent('[data-testid=sensitive-status]')).toContain(`Request ${id} approved until`);
    await expect.poll(() => theirs.locator('[data-testid=approval-status]').textContent()).toContain('approved');
    expect(await theirs.locator('[data-testid=use-in-search]').count()).toBe(0); // another user's approval
    expect(await own.locator('[data-testid=approval-status]').textContent()).toContain('pending');

    // The analyst sees the approval and takes it to the Search page, which fills it in.
    await ana.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => asked.locator('[data-testid=approval-status]').textContent()).toContain('approved');
    await shot(ana, 'sensitive');
    await asked.locator('[data-testid=use-in-search]').click();
    await ana.waitForSelector('[data-testid=search-form]');
    expect(new URL(ana.url()).pathname).toBe('/search');
    expect(await ana.inputValue('input[name=sensitiveApproval]')).toBe(id);
    expect(await ana.inputValue('#search-purpose')).toBe('FELONY_INVESTIGATION');
    expect(await ana.inputValue('#search-case')).toBe(CASE);
    await ana.fill('input[name=plate]', CLINIC_PLATE);
    await ana.click('[data-testid=search-submit]');
    await expect.poll(() => resultCameras(ana)).toEqual([CLINIC_CAMERA, 'cam-north-1']);
    expect(await ana.locator('[data-testid=withheld]').count()).toBe(0);
    const access = await stack.pool.query<{ actor: string }>("SELECT actor FROM platesieve.audit WHERE action = 'sensitive.access' AND outcome <> 'refused'");
    expect(access.rows.map((r) => r.actor)).toEqual(['ana']);
  });

  it('shows auditors the audit log and verifies the chain from the page', async () => {
    const aud = await newPage();
    await aud.goto(`${stack.url}/`);
    await login(aud, 'aud');
    await aud.waitForSelector('nav');
    expect(await navTitles(aud)).toEqual(['Dashboard', 'Audit']);
    await aud.click('nav a[href="/audit"]');
    await aud.waitForSelector('[data-testid=audit-table] tbody tr');
    expect(await aud.textContent('[data-testid=audit-table]')).toContain('session.refused');
    await aud.fill('input[name=actor]', 'ana');
    await aud.click('text=Show');
    await expect.poll(async () => (await aud.locator('[data-testid=audit-table] tbody tr td:nth-child(3)').allTextContents()).every((u) => u === 'ana')).toBe(true);
    await aud.click('[data-testid=verify-chain]');
    await expect.poll(() => aud.textContent('[data-testid=verify-result]')).toContain('Chain intact');
    await shot(aud, 'audit');
    expect(pageErrors).toEqual([]);
  });
});
