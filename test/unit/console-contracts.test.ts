/**
 * The console (console/src/contracts.ts) carries copies of the server's role lists, purposes,
 * tiers and reasons, because the route files cannot go into a browser bundle. These must be
 * the same lists, or the console would show a page the server refuses or hide one it allows.
 */
import { describe, expect, it } from 'vitest';
import * as consoleLists from '../../console/src/contracts.js';
import { APPROVAL_KINDS } from '../../matcher/sharing/requests.js';
import { REJECT_REASONS } from '../../matcher/dispositions/validate.js';
import { ENDPOINT_ROLES } from '../../matcher/ops/roles.js';
import { ALERT_READ_ROLES, ALERT_STATS_ROLES, DISPOSITION_ROLES } from '../../matcher/ops/routes/alerts.js';
import { AUDIT_ROLES } from '../../matcher/ops/routes/audit.js';
import { ALERT_LIVE_ROLES } from '../../matcher/ops/routes/live.js';
import { HOLD_RELEASE_ROLES, HOLD_ROLES } from '../../matcher/ops/routes/holds.js';
import { SEARCH_ROLES } from '../../matcher/ops/routes/search.js';
import { SENSITIVE_DECIDE_ROLES, SENSITIVE_ROLES } from '../../matcher/ops/routes/sensitive.js';
import { SHARE_DECIDE_ROLES, SHARE_ROLES } from '../../matcher/ops/routes/sharing.js';
import { ROLES } from '../../matcher/people/index.js';
import { ALLOWED_PURPOSES } from '../../matcher/policy/purpose.js';
import { CRIMINAL_INVESTIGATIVE_PURPOSES, DEFAULT_SENSITIVE_TAGS } from '../../matcher/policy/sensitive.js';
import { MATCH_TIERS } from '../../matcher/types.js';

describe('console contracts', () => {
  it('uses the server role lists', () => {
    expect(consoleLists.ROLES).toEqual(ROLES);
    expect(consoleLists.SEARCH_ROLES).toEqual(SEARCH_ROLES);
    expect(consoleLists.HOLD_ROLES).toEqual(HOLD_ROLES);
    expect(consoleLists.HOLD_RELEASE_ROLES).toEqual(HOLD_RELEASE_ROLES);
    expect(consoleLists.SHARE_ROLES).toEqual(SHARE_ROLES);
    expect(consoleLists.SHARE_DECIDE_ROLES).toEqual(SHARE_DECIDE_ROLES);
    expect(consoleLists.SENSITIVE_ROLES).toEqual(SENSITIVE_ROLES);
    expect(consoleLists.SENSITIVE_DECIDE_ROLES).toEqual(SENSITIVE_DECIDE_ROLES);
    expect(consoleLists.AUDIT_ROLES).toEqual(AUDIT_ROLES);
    expect(consoleLists.LIVE_ROLES).toEqual(ALERT_READ_ROLES);
    expect(consoleLists.LIVE_ROLES).toEqual(ALERT_LIVE_ROLES);
    expect(consoleLists.DISPOSITION_ROLES).toEqual(DISPOSITION_ROLES);
    expect(consoleLists.STATS_ROLES).toEqual(ALERT_STATS_ROLES);
  });

  it('lists each page API call under the roles the server allows', () => {
    const roles = (key: string): unknown => {
      const r = ENDPOINT_ROLES[key];
      return r === 'any' ? consoleLists.ROLES : r;
    };
    expect(roles('GET /api/alerts')).toEqual(consoleLists.LIVE_ROLES);
    expect(roles('POST /api/alerts/:id/disposition')).toEqual(consoleLists.DISPOSITION_ROLES);
    expect(roles('GET /api/alerts/stats')).toEqual(consoleLists.STATS_ROLES);
    expect(roles('POST /api/search')).toEqual(consoleLists.SEARCH_ROLES);
    expect(roles('GET /api/holds')).toEqual(consoleLists.HOLD_ROLES);
    expect(roles('GET /api/sharing/requests')).toEqual(consoleLists.SHARE_ROLES);
    expect(roles('GET /api/sensitive/requests')).toEqual(consoleLists.SENSITIVE_ROLES);
    expect(roles('POST /api/sensitive/requests')).toEqual(consoleLists.SENSITIVE_ROLES);
    expect(roles('POST /api/sensitive/requests/:id/approve')).toEqual(consoleLists.SENSITIVE_DECIDE_ROLES);
    expect(roles('POST /api/sensitive/requests/:id/deny')).toEqual(consoleLists.SENSITIVE_DECIDE_ROLES);
    expect(roles('GET /api/audit')).toEqual(consoleLists.AUDIT_ROLES);
    // Routes not (yet) in the table are checked against their own constants above.
    for (const key of ['GET /api/alerts/live', 'GET /api/dashboard']) if (ENDPOINT_ROLES[key] !== undefined) expect(roles(key)).toEqual(key.endsWith('live') ? consoleLists.LIVE_ROLES : consoleLists.DASHBOARD_ROLES);
  });

  it('offers the default sensitive-place tags and the purposes they allow', () => {
    expect([...consoleLists.SENSITIVE_DEFAULT_TAGS]).toEqual(Object.keys(DEFAULT_SENSITIVE_TAGS));
    expect(consoleLists.SENSITIVE_PURPOSES).toEqual(CRIMINAL_INVESTIGATIVE_PURPOSES);
  });

  it('offers the allowed purposes, tiers, reasons and approval kinds', () => {
    expect(consoleLists.PURPOSES).toEqual(Object.entries(ALLOWED_PURPOSES).map(([code, p]) => ({ code, description: p.description, investigative: p.investigative })));
    expect(consoleLists.MATCH_TIERS).toEqual(MATCH_TIERS);
    expect(consoleLists.REJECT_REASONS).toEqual(REJECT_REASONS);
    expect(consoleLists.APPROVAL_KINDS).toEqual(APPROVAL_KINDS);
  });

  it('shows each role the pages it may use', () => {
    const pages = (role: string): string[] => consoleLists.pagesFor([role]).map((p) => p.title);
    expect(pages('operator')).toEqual(['Alerts', 'Dashboard']);
    expect(pages('analyst')).toEqual(['Alerts', 'Search', 'Holds', 'Sharing', 'Sensitive places', 'Dashboard']);
    expect(pages('supervisor')).toEqual(['Alerts', 'Search', 'Holds', 'Sharing', 'Sensitive places', 'Dashboard', 'Audit']);
    expect(pages('auditor')).toEqual(['Dashboard', 'Audit']);
    expect(pages('admin')).toEqual(['Dashboard']);
  });
});
