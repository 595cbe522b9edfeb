/**
 * The export of a sharing request: NDJSON (one record a line) and a manifest that describes it
 * and carries the SHA-256 of the exact NDJSON bytes, so the receiving agency can check the file.
 */
import { createHash } from 'node:crypto';
import type { SearchHit } from '../store/search.js';
import type { ShareApproval, ShareRequest } from './requests.js';

/** Format tag of the manifest. */
export const EXPORT_FORMAT = 'platesieve-share/1';

/** Describes one export (docs/sharing.md "Manifest"). */
export interface ShareManifest {
  format: typeof EXPORT_FORMAT;
  requestId: string;
  agency: string;
  federal: boolean;
  requester: string;
  purpose: string;
  case: string;
  approvals: ShareApproval[];
  /** Lines by record kind (`read`), by match tier, and in all. */
  counts: { total: number; byKind: Record<string, number>; byMatch: Record<string, number> };
  /** The search hit its limit: more records matched than were exported. */
  truncated: boolean;
  createdAt: number;
  createdBy: string;
  /** Hex SHA-256 of the NDJSON bytes (UTF-8). */
  sha256: string;
}

/** An export: the manifest and the NDJSON text it hashes. */
export interface ShareExport {
  manifest: ShareManifest;
  ndjson: string;
  /**
   * Reads of sensitive places matched and were left out (docs/sensitive-places.md). Returned to
   * the exporting supervisor when the export is made; never in the manifest, which goes to the
   * other agency and would tell it the vehicle was at such a place.
   */
  withheld?: { sensitive: true };
}

/** Hex SHA-256 of a text's UTF-8 bytes. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Builds the NDJSON and manifest of `req` from the search's hits. */
export function buildExport(req: ShareRequest, hits: readonly SearchHit[], meta: { createdAt: number; createdBy: string; truncated: boolean }): ShareExport {
  const byMatch: Record<string, number> = {};
  const lines = hits.map((h) => {
    byMatch[h.match] = (byMatch[h.match] ?? 0) + 1;
    return `${JSON.stringify({ kind: 'read', id: h.id, match: h.match, matchedPlate: h.matchedPlate, ts: h.ts, record: h.record })}\n`;
  });
  const ndjson = lines.join('');
  return {
    ndjson,
    manifest: {
      format: EXPORT_FORMAT, requestId: req.id, agency: req.agency, federal: req.federal, requester: req.requester, purpose: req.purpose, case: req.case,
      approvals: req.approvals, counts: { total: hits.length, byKind: { read: hits.length }, byMatch }, truncated: meta.truncated,
      createdAt: meta.createdAt, createdBy: meta.createdBy, sha256: sha256Hex(ndjson),
    },
  };
}
