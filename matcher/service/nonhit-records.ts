/**
 * The records of a batch's reads that hit nothing, grouped by retention policy: the fast
 * reads' written by the core (one call per policy for the whole batch), the others encoded
 * with JSON.stringify, added to their groups in read order.
 */
import type { RetentionPolicy } from './retention.js';
import { buildRecord, policyFor, retentionFor } from './retention.js';
import { interned } from './msgpack.js';
import { ByteWriter, RecordsMessages } from './record-json.js';
import type { CoreReads } from './core-reads.js';
import { F_AGENCY } from '../core/layout.js';
import type { BatchReads, NonhitGroup, ProcessorSettings, Read, Task } from './task.js';

/** Records messages by retention policy name, of an input message or of a whole batch. */
export interface Groups {
  byPolicy: Map<string, RecordsMessages>;
}

// One writer per retention policy and thread, reused from batch to batch.
const writers = new Map<string, ByteWriter>();

function writerFor(policy: string): ByteWriter {
  let w = writers.get(policy);
  if (w === undefined) writers.set(policy, (w = new ByteWriter()));
  return w;
}

function groupFor(groups: Groups, policy: string, maxBytes: number, single: boolean): RecordsMessages {
  let g = groups.byPolicy.get(policy);
  if (g === undefined) groups.byPolicy.set(policy, (g = new RecordsMessages(writerFor(policy), maxBytes, single)));
  return g;
}

export function finishGroups(groups: Groups): NonhitGroup[] {
  const out: NonhitGroup[] = [];
  for (const [policy, g] of groups.byPolicy) out.push({ policy, data: g.finish(), counts: g.counts });
  groups.byPolicy.clear();
  return out;
}

/**
 * The records of a batch's non-hit reads: the fast reads' written by the core, one call per
 * retention policy for the whole batch, the others encoded with JSON.stringify; added to
 * their policies' groups in read order, runs of consecutive fast records copied at once.
 */
export class NonhitWriter {
  private readonly policies: Array<RetentionPolicy | undefined>;
  /** Per read: its position in its policy's list of fast records (-1 when not one). */
  private readonly fastPos: Int32Array;
  private readonly written = new Map<RetentionPolicy, { bytes: Uint8Array; ends: Uint32Array }>();

  constructor(
    task: Task, private readonly settings: ProcessorSettings, private readonly reads: BatchReads,
    private readonly mark: Uint8Array, core: CoreReads | undefined,
  ) {
    const retention = settings.retention;
    const byAgency = Object.keys(retention.agencies).length > 0;
    const count = reads.origin.length;
    core?.refresh(); // matching may have grown the core's memory
    this.policies = new Array<RetentionPolicy | undefined>(count);
    this.fastPos = new Int32Array(count).fill(-1);
    const lists = new Map<RetentionPolicy, number[]>();
    for (let b = 0; b < count; b++) {
      if (mark[b] !== 0) continue;
      const it = reads.item[b];
      let policy: RetentionPolicy;
      if (it < 0) policy = policyFor(reads.objects[b]!.agency, retention);
      else if (!byAgency || (core!.flags(it) & F_AGENCY) === 0) policy = retention.default;
      else policy = policyFor(interned(task.buf, core!.agencyAt(it), core!.agencyLength(it)), retention);
      this.policies[b] = policy;
      if (it >= 0) {
        let list = lists.get(policy);
        if (list === undefined) lists.set(policy, (list = []));
        this.fastPos[b] = list.length;
        list.push(it);
      }
    }
    if (lists.size > 0) core!.beginRecords();
    if (reads.needKeys && lists.size > 0) core!.putKeys(task.keys);
    for (const [policy, list] of lists) this.written.set(policy, core!.writeRecords(list, list.length, task.receivedAt, policy));
  }

  /** Adds the records of the non-hit reads [from, to) to `groups`; returns how many. */
  add(from: number, to: number, groups: Groups, single: boolean): number {
    const { mark, policies, fastPos } = this;
    const seen: RetentionPolicy[] = [];
    let added = 0;
    for (let b = from; b < to; b++) {
      const p = policies[b];
      if (mark[b] === 0 && p !== undefined && !seen.includes(p)) seen.push(p);
    }
    for (const policy of seen) {
      const group = groupFor(groups, policy.policy, this.settings.maxOutputBytes, single);
      const recs = this.written.get(policy);
      let runStart = -1;
      let runEnd = -1;
      for (let b = from; b < to; b++) {
        if (mark[b] !== 0 || policies[b] !== policy) continue;
        added++;
        const pos = fastPos[b];
        if (pos >= 0 && runStart >= 0 && pos === runEnd + 1) {
          runEnd = pos;
          continue;
        }
        if (runStart >= 0) group.addRun(recs!.bytes, recs!.ends, runStart, runEnd);
        runStart = runEnd = pos;
        if (pos < 0) {
          const read = this.reads.objects[b]!;
          group.addJson(JSON.stringify(buildRecord(read as Read & { id: string }, [], retentionFor(read.agency, false, read.ts, this.settings.retention))));
        }
      }
      if (runStart >= 0) group.addRun(recs!.bytes, recs!.ends, runStart, runEnd);
    }
    return added;
  }
}
