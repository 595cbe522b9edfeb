/**
 * A testing aid, not a feature: `PLATESIEVE_TEST_FAIL_STAGE` makes chosen batches throw at a
 * chosen stage, so that integration tests can show, on a real broker, that a batch failing
 * after matching is redelivered (JetStream) or dead-lettered (core) and counted, and never
 * escapes as an unhandled rejection (which would stop the process). Nothing sets it in
 * production; unset, it costs one comparison a stage.
 *
 * Format: `<stage>:<n>[,<stage>:<n>...]`, stage `match`, `finalize` or `publish`: the n-th
 * batch (from 1) to reach that stage throws there, once. `publish` throws after the batch's
 * first publishing phase (alerts stored, their suppression decisions kept) and before its hit
 * records are published: the case of a message whose alerts are stored but which is not acked.
 */
import { ConfigError, PlatesieveError } from '../errors.js';

/** The environment variable read by {@link FaultInjector.fromEnv}. */
export const FAULT_ENV = 'PLATESIEVE_TEST_FAIL_STAGE';

/** Stages a fault can be injected at. */
export type FaultStage = 'match' | 'finalize' | 'publish';

const STAGES: readonly FaultStage[] = ['match', 'finalize', 'publish'];

/** The failure {@link FaultInjector} throws. */
export class InjectedFaultError extends PlatesieveError {
  readonly stage: FaultStage;
  constructor(stage: FaultStage, n: number) {
    super('ERR_INJECTED_FAULT', `injected fault (${FAULT_ENV}): batch ${n} at ${stage}`);
    this.stage = stage;
  }
}

/** Counts batches per stage and throws at the ones named in {@link FAULT_ENV}. */
export class FaultInjector {
  private readonly seen = new Map<FaultStage, number>();

  private constructor(private readonly failAt: ReadonlyMap<FaultStage, ReadonlySet<number>>) {}

  /** The injector `env` asks for, or undefined when the variable is unset or empty. Throws `ConfigError` on a malformed value. */
  static fromEnv(env: Readonly<Record<string, string | undefined>> = process.env): FaultInjector | undefined {
    const text = env[FAULT_ENV];
    if (text === undefined || text.trim() === '') return undefined;
    const failAt = new Map<FaultStage, Set<number>>();
    for (const part of text.split(',')) {
      const m = /^\s*(\w+):(\d+)\s*$/.exec(part);
      const stage = STAGES.find((s) => s === m?.[1]);
      const n = Number(m?.[2]);
      if (stage === undefined || !(n >= 1)) {
        throw new ConfigError(FAULT_ENV, `config: ${FAULT_ENV} "${part}" is not <stage>:<n> with stage one of ${STAGES.join(', ')} and n >= 1`);
      }
      let set = failAt.get(stage);
      if (set === undefined) failAt.set(stage, (set = new Set()));
      set.add(n);
    }
    return new FaultInjector(failAt);
  }

  /** Called by each batch as it reaches `stage`; throws {@link InjectedFaultError} at the batches named. */
  check(stage: FaultStage): void {
    const n = (this.seen.get(stage) ?? 0) + 1;
    this.seen.set(stage, n);
    if (this.failAt.get(stage)?.has(n) === true) throw new InjectedFaultError(stage, n);
  }
}
