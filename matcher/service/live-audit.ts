/**
 * Who wrote each live change, and the service's audit record of it (docs/audit.md "Live
 * changes"). Every change to the bucket must name its writer in the `Platesieve-Actor` header
 * (live-write.ts); the service applies a change only when it does, and audits what it
 * applied with that writer as the actor. A change without one (written around
 * `platesieve hotlist`, by any client holding a credential that may write the bucket) is
 * refused: not applied, logged at error level and audited as `live.refused`.
 *
 * nats.js 2.x types a key-value entry without its headers. The watcher's entries wrap the
 * JetStream message they came from (`sm`), which has them; {@link headersOf} reads them from
 * there. Should a later nats.js hide them, every change reads as unattributed and is refused
 * (fail closed), and the tests that write attributed changes fail.
 */
import { Match, type KV, type KvEntry, type MsgHdrs } from 'nats';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/index.js';
import type { HotlistEntry } from '../types.js';
import { ACTOR_HEADER, CASE_HEADER, PURPOSE_HEADER, REASON_HEADER, STATED_ACTOR_HEADER, type LiveAttribution } from './live-write.js';

/** What a live change does to the service's view. */
export type LiveChangeAction = 'live.add' | 'live.remove' | 'live.cancel' | 'live.cancel.lift';

/** Why a change was refused: stable codes, in the log line and the audit record's `details.code`. */
export type LiveRefusalCode = 'UNATTRIBUTED' | 'INVALID_ACTOR' | 'MALFORMED';

/** A change's attribution from its headers, or why it has none. */
export type AttributionResult = ({ ok: true } & LiveAttribution) | { ok: false; code: LiveRefusalCode; reason: string };

/** Longest actor accepted (the audit log's own limit). */
const MAX_ACTOR = 256;

function isHeaders(v: unknown): v is MsgHdrs {
  return typeof v === 'object' && v !== null && typeof (v as { values?: unknown }).values === 'function';
}

/** The headers of a key-value entry from a watcher or a history read, if it carries any. */
export function headersOf(e: KvEntry): MsgHdrs | undefined {
  const msg = (e as unknown as { sm?: unknown }).sm;
  if (typeof msg !== 'object' || msg === null) return undefined;
  // A watched entry wraps a JsMsg (`headers`); a `kv.get` entry a StoredMsg (`header`).
  const h = (msg as { headers?: unknown }).headers ?? (msg as { header?: unknown }).header;
  return isHeaders(h) ? h : undefined;
}

/** The first value of a header, matched without regard to case (other clients canonicalize names). */
function one(h: MsgHdrs, name: string): string | undefined {
  return h.values(name, Match.IgnoreCase).find((s) => s !== '');
}

/**
 * The writer of a change: `Platesieve-Actor` (exactly one distinct value, 1 to 256 characters,
 * no control characters), with the optional reason, purpose, case and stated name.
 */
export function attributionOf(e: KvEntry): AttributionResult {
  const h = headersOf(e);
  const actors = h === undefined ? [] : [...new Set(h.values(ACTOR_HEADER, Match.IgnoreCase).filter((s) => s !== ''))];
  if (h === undefined || actors.length === 0) return { ok: false, code: 'UNATTRIBUTED', reason: `no ${ACTOR_HEADER} header: the writer is not named` };
  if (actors.length > 1) return { ok: false, code: 'INVALID_ACTOR', reason: `${actors.length} different ${ACTOR_HEADER} headers: the writer is ambiguous` };
  const actor = actors[0];
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (actor.length > MAX_ACTOR || /[\x00-\x1f\x7f]/.test(actor)) {
    return { ok: false, code: 'INVALID_ACTOR', reason: `${ACTOR_HEADER} must be 1 to ${MAX_ACTOR} characters without control characters` };
  }
  return { ok: true, actor, reason: one(h, REASON_HEADER), purpose: one(h, PURPOSE_HEADER), case: one(h, CASE_HEADER), statedActor: one(h, STATED_ACTOR_HEADER) };
}

/**
 * The key's last attributed change before `revision`, from the bucket's history (the service
 * keeps 10 revisions a key): what stands when its latest change is refused. Undefined when
 * none is left, or the history cannot be read.
 */
export async function lastAttributed(kv: KV, key: string, revision: number, logger: Logger): Promise<KvEntry | undefined> {
  let found: KvEntry | undefined;
  try {
    for await (const e of await kv.history({ key })) {
      if (e.revision < revision && attributionOf(e).ok && (found === undefined || e.revision > found.revision)) found = e;
    }
  } catch (err) {
    logger.error({ key, err }, 'live hotlist history unreadable; the refused change leaves the key empty');
    return undefined;
  }
  return found;
}

/** How an applied change is described beyond its entry. */
export interface AppliedInfo {
  /** Read from the bucket at start (the state it holds), not followed as it happened. */
  atStart: boolean;
  /** An add that replaced an entry, a remove or lift that found one: whether the view changed. */
  present: boolean;
  /** The entry an add put in (or a remove took out), for the record's subject. */
  entry?: HotlistEntry;
  /** A cancellation's stored reason, when the change has no reason header. */
  reason?: string;
  /** At start: the refused later revision this change stands in for. */
  standsFor?: number;
}

/** Writes the service's audit records and log lines of live changes. */
export class LiveChangeAudit {
  constructor(
    private readonly opts: {
      audit: AuditLog | undefined;
      logger: Logger;
      bucket: string;
    },
  ) {}

  /** A change taken into the live view, with the writer as the actor. */
  applied(e: KvEntry, action: LiveChangeAction, id: string, who: LiveAttribution, info: AppliedInfo): void {
    const entry = info.entry;
    // Fields of an entry written straight to the bucket may be of any JSON type; the log takes strings.
    const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    this.opts.logger.info({ key: e.key, revision: e.revision, action, actor: who.actor, atStart: info.atStart || undefined }, 'live hotlist change taken');
    this.append({
      action,
      actor: who.actor,
      purpose: who.purpose ?? text(entry?.purpose),
      case: who.case ?? text(entry?.case),
      reason: who.reason ?? info.reason,
      subject: { key: e.key, entryId: id, plate: entry?.plate, pattern: entry?.pattern, list: entry?.list, state: entry?.state },
      details: {
        bucket: this.opts.bucket,
        revision: e.revision,
        written: e.created.toISOString(),
        present: info.present,
        atStart: info.atStart || undefined,
        standsFor: info.standsFor,
        statedActor: who.statedActor,
      },
    });
  }

  /**
   * A change not applied: an error log line and a `live.refused` record (the service's own
   * identity as the actor; the writer, when named, in `details.writer`).
   */
  refused(e: KvEntry, code: LiveRefusalCode, reason: string, info: { atStart: boolean; writer?: string; standing?: number }): void {
    this.opts.logger.error({ key: e.key, revision: e.revision, operation: e.operation, code, reason, standing: info.standing }, 'live hotlist change refused');
    this.append({
      action: 'live.refused',
      outcome: 'refused',
      reason: `${e.operation} ${e.key} refused: ${reason}`,
      subject: { key: e.key },
      details: {
        bucket: this.opts.bucket,
        revision: e.revision,
        operation: e.operation,
        code,
        written: e.created.toISOString(),
        writer: info.writer,
        atStart: info.atStart || undefined,
        // At start: the earlier attributed revision applied instead, if any.
        standing: info.standing,
      },
    });
  }

  private append(event: Parameters<AuditLog['append']>[0]): void {
    // Appends are chained in call order, so the records keep the order of the changes; the
    // change is applied whether or not the write succeeds (a failed log closes itself and
    // every later append fails loudly), as with the service's other records.
    void this.opts.audit?.append(event).catch((err: unknown) => this.opts.logger.error({ err }, 'audit log append failed'));
  }
}
