/**
 * The message side of dispositions on NATS (nats-consumer.ts): the agency a subject names, the
 * subject an answer goes to, the dead letter's headers, and the look at the store that lets a
 * redelivered disposition count as the one already stored.
 */
import type pg from 'pg';
import { headers as natsHeaders, type MsgHdrs } from 'nats';
import { SCHEMA } from '../store/schema.js';
import type { DispositionRefusal } from './record.js';
import type { Disposition, DispositionProblem } from './validate.js';

const S = SCHEMA;

/**
 * The header naming the subject the store answers on. Not the message's reply subject: a
 * message published to a stream's subject with a reply subject is answered there by JetStream
 * itself (its PubAck), and the stored message keeps no reply subject.
 */
export const REPLY_TO_HEADER = 'Platesieve-Reply-To';

/** Why a disposition from NATS was not recorded: validation, refusal, or a subject naming no single agency. */
export type NatsProblem = DispositionProblem | DispositionRefusal | 'BAD_SUBJECT';

/** The answer on {@link REPLY_TO_HEADER}'s subject. */
export type Answer =
  | { ok: true; alertId: string }
  | { ok: false; alertId?: string; error: string; problem: NatsProblem; message: string };

/** The agency token of `<prefix>.dispositions.<agency>`; undefined when the rest is not one token. */
export function dispositionAgency(subject: string, prefix: string): string | undefined {
  const head = `${prefix}.dispositions.`;
  if (!subject.startsWith(head)) return undefined;
  const rest = subject.slice(head.length);
  return rest !== '' && !rest.includes('.') ? rest : undefined;
}

/** The alert id an invalid disposition names, when it names one the answer can repeat. */
export function alertIdOf(input: unknown): string | undefined {
  const id = (input as { alertId?: unknown } | null | undefined)?.alertId;
  return typeof id === 'string' && id !== '' && id.length <= 200 ? id : undefined;
}

// Plain tokens only: no wildcard, no white space. `_INBOX.<nuid>` and the like.
const REPLY_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/**
 * The subject to answer on, from {@link REPLY_TO_HEADER}; undefined when absent or unsafe. The
 * store's own subjects (under the prefix) and system subjects (`$JS.`, `$SYS.`, ...) are never
 * answered on: an answer must not become a disposition, an alert or a JetStream API call.
 */
export function replySubject(h: MsgHdrs | undefined, prefix: string): string | undefined {
  const to = h?.get(REPLY_TO_HEADER) ?? '';
  if (to === '' || to.length > 256 || !REPLY_RE.test(to)) return undefined;
  if (to === prefix || to.startsWith(`${prefix}.`)) return undefined;
  return to;
}

/** Dead-letter headers, as the service's (docs/wire-format.md "Dead letters"): the problem is the code. */
export function deadLetterHeaders(subject: string, problem: NatsProblem, reason: string): MsgHdrs {
  const h = natsHeaders();
  h.set('Platesieve-Code', problem);
  h.set('Platesieve-Reason', reason.slice(0, 1000));
  h.set('Platesieve-Subject', subject);
  h.set('Platesieve-Index', '');
  return h;
}

/** What the store holds for an alert id before a disposition of it is recorded. */
export interface Precheck {
  alertStored: boolean;
  stored?: {
    outcome: string;
    reason: string | null;
    note: string | null;
    by: string;
    at: number;
    verifiedWith: string | null;
    source: string;
  };
}

interface PrecheckRow {
  alert_stored: boolean;
  outcome: string | null;
  reason: string | null;
  note: string | null;
  by: string | null;
  at: string | null;
  verified_with: string | null;
  source: string | null;
}

/** Whether the alert is stored, and its disposition if it has one. */
export async function precheck(pool: pg.Pool, alertId: string): Promise<Precheck> {
  const { rows } = await pool.query<PrecheckRow>(
    `SELECT EXISTS (SELECT 1 FROM ${S}.alerts WHERE alert_id = $1) AS alert_stored,
            d.outcome, d.reason, d.note, d.by, d.at::text AS at, d.verified_with, d.source
       FROM (SELECT 1) AS one LEFT JOIN ${S}.dispositions d ON d.alert_id = $1`,
    [alertId],
  );
  const r = rows[0];
  if (r === undefined) return { alertStored: false };
  if (r.outcome === null || r.by === null || r.at === null || r.source === null) return { alertStored: r.alert_stored };
  return {
    alertStored: r.alert_stored,
    stored: { outcome: r.outcome, reason: r.reason, note: r.note, by: r.by, at: Number(r.at), verifiedWith: r.verified_with, source: r.source },
  };
}

/**
 * True when the stored disposition is this one from NATS, field for field: an earlier delivery
 * stored it and died before its acknowledgement. Anything else stored is a second disposition,
 * refused `ALREADY_DISPOSITIONED`.
 */
export function duplicateOf(pre: Precheck, d: Disposition): boolean {
  const s = pre.stored;
  return s !== undefined && s.source === 'nats' && s.outcome === d.outcome && s.reason === (d.reason ?? null)
    && s.note === (d.note ?? null) && s.by === d.by && s.at === d.at && s.verifiedWith === (d.verifiedWith ?? null);
}
