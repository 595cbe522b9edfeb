/**
 * What a fuzz target is and what a run of one reports. A target generates one case from a
 * random generator and runs it through a decoder or parser; the engine (engine.ts) counts,
 * times and classifies the outcomes.
 */
import type { Rng } from './rng.js';

/**
 * One input. `data` is always bytes, so any case can be saved and replayed; `parts` splits
 * it into several messages or chunks (positions into `data`), `opt` is a small
 * target-specific variant (a file extension, a layout, a mode).
 */
export interface FuzzCase {
  data: Uint8Array;
  parts?: number[];
  opt?: number;
}

/** What one case did, when it neither crashed nor broke an invariant. */
export interface CaseResult {
  /** The input (or part of it) was rejected, with a documented error or reject code and a reason. */
  rejected: boolean;
}

/** A fuzz target: a decoder or parser that takes outside input. */
export interface Target {
  readonly name: string;
  /** One line for the runner's help and the docs. */
  readonly description: string;
  /** Builds the case of one random generator (deterministic: same generator, same case). */
  generate(rng: Rng): FuzzCase;
  /**
   * Runs a case. Returns normally for an accepted or a properly rejected input; throws
   * {@link FuzzFailure} for a broken invariant (a disagreement, a reject without a reason);
   * any other exception is a crash.
   */
  run(c: FuzzCase): CaseResult | Promise<CaseResult>;
  /** Target-specific counters for the report (reads that took the fast path, ...). */
  counters?(): Record<string, number>;
  /** Bytes of memory the target holds outside the JavaScript heap (WebAssembly linear memory). */
  externalBytes?(): number;
}

/**
 * An invariant the target checks was broken: the fast and object paths disagree, a reject
 * has no reason, counts do not add up. Distinct from a crash (an unexpected exception).
 */
export class FuzzFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FuzzFailure';
  }
}

/** A failed case, as written to the crashers folder. */
export interface Failure {
  target: string;
  seed: number;
  index: number;
  /** crash: unexpected exception; mismatch: broken invariant; hang: over the per-case time limit. */
  kind: 'crash' | 'mismatch' | 'hang';
  message: string;
  stack?: string;
  /** Kind, message with numbers blanked, and where it was thrown: failures alike share it. */
  signature: string;
  ms: number;
  case: FuzzCase;
}

/** What a run of one target reports. */
export interface TargetStats {
  target: string;
  cases: number;
  seconds: number;
  casesPerSecond: number;
  /**
   * CPU seconds the process spent (user + system): on a shared machine wall time says as much
   * about the neighbours as about the target, CPU time less so.
   */
  cpuSeconds: number;
  casesPerCpuSecond: number;
  /** Cases with at least one rejected input (each with a code and a reason). */
  rejects: number;
  crashes: number;
  mismatches: number;
  /** Cases over the slow-case limit, or killed by the watchdog. */
  hangs: number;
  maxCaseMs: number;
  /** Index of the slowest case (to replay it). */
  slowestIndex: number;
  /** JavaScript heap in use after a full GC, at the end less after warm-up (bytes). */
  heapGrowth: number;
  /** Target-held memory outside the heap (WebAssembly), at the end less after warm-up. */
  externalGrowth: number;
  /** Resident set size, at the end less after warm-up (bytes; the whole process). */
  rssGrowth: number;
  /** Distinct failure signatures (a message and where it was thrown). */
  signatures: string[];
  counters: Record<string, number>;
}
