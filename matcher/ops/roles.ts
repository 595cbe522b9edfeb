/**
 * Which roles may call which endpoint: the table docs/ops.md shows and the tests walk. The
 * routes declare the same lists (their `config.roles`); a test checks the two agree.
 */
import type { Role } from '../people/index.js';
import { ALERT_READ_ROLES, ALERT_STATS_ROLES, DISPOSITION_ROLES } from './routes/alerts.js';
import { AUDIT_ROLES } from './routes/audit.js';
import { HOLD_RELEASE_ROLES, HOLD_ROLES } from './routes/holds.js';
import { HOTLIST_ROLES } from './routes/hotlist.js';
import { ALERT_LIVE_ROLES } from './routes/live.js';
import { REPLAY_ROLES } from './routes/replay.js';
import { SEARCH_ROLES } from './routes/search.js';
import { SENSITIVE_DECIDE_ROLES, SENSITIVE_ROLES } from './routes/sensitive.js';
import { SHARE_DECIDE_ROLES, SHARE_ROLES } from './routes/sharing.js';
import { USER_ROLES } from './routes/users.js';

/** `METHOD /path` to the roles allowed (`any`: every logged-in user; `public`: no session). */
export const ENDPOINT_ROLES: Readonly<Record<string, readonly Role[] | 'any' | 'public'>> = {
  'POST /api/login': 'public',
  'POST /api/logout': 'any',
  'GET /api/me': 'any',
  'POST /api/search': SEARCH_ROLES,
  'POST /api/replay': REPLAY_ROLES,
  'GET /api/holds': HOLD_ROLES,
  'POST /api/holds': HOLD_ROLES,
  'POST /api/holds/:id/release': HOLD_RELEASE_ROLES,
  'POST /api/hotlist/entries': HOTLIST_ROLES,
  'POST /api/hotlist/entries/:id/cancel': HOTLIST_ROLES,
  'DELETE /api/hotlist/entries/:id': HOTLIST_ROLES,
  'GET /api/users': USER_ROLES,
  'POST /api/users': USER_ROLES,
  'POST /api/users/:username/disable': USER_ROLES,
  'POST /api/users/:username/enable': USER_ROLES,
  'POST /api/users/:username/reset': USER_ROLES,
  'PUT /api/users/:username/roles': USER_ROLES,
  'POST /api/sharing/requests': SHARE_ROLES,
  'GET /api/sharing/requests': SHARE_ROLES,
  'POST /api/sharing/requests/:id/approve': SHARE_DECIDE_ROLES,
  'POST /api/sharing/requests/:id/deny': SHARE_DECIDE_ROLES,
  'POST /api/sharing/requests/:id/export': SHARE_DECIDE_ROLES,
  'GET /api/sharing/requests/:id/export': SHARE_DECIDE_ROLES,
  'POST /api/sensitive/requests': SENSITIVE_ROLES,
  'GET /api/sensitive/requests': SENSITIVE_ROLES,
  'POST /api/sensitive/requests/:id/approve': SENSITIVE_DECIDE_ROLES,
  'POST /api/sensitive/requests/:id/deny': SENSITIVE_DECIDE_ROLES,
  'POST /api/alerts/:id/disposition': DISPOSITION_ROLES,
  'GET /api/alerts': ALERT_READ_ROLES,
  'GET /api/alerts/stats': ALERT_STATS_ROLES,
  'GET /api/alerts/:id': ALERT_READ_ROLES,
  'GET /api/alerts/live': ALERT_LIVE_ROLES,
  'GET /api/audit': AUDIT_ROLES,
  'GET /api/audit/report': AUDIT_ROLES,
  'POST /api/audit/verify': AUDIT_ROLES,
  'GET /api/dashboard': 'any',
  'GET /healthz': 'public',
  'GET /metrics': 'public',
  'GET /openapi.json': 'public',
};
