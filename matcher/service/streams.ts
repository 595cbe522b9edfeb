/**
 * JetStream streams of the service: the reads stream with its durable pull consumer, and the
 * output streams, one per retention class and agency policy (see docs/wire-format.md).
 */
import type { Logger } from 'pino';
import { AckPolicy, DeliverPolicy, RetentionPolicy as JsRetention, StorageType, nanos, type NatsConnection } from 'nats';
import { ConfigError } from '../errors.js';
import type { ServiceConfig } from './config.js';
import { DAY_MS } from './retention.js';
import { subjectToken } from './subjects.js';

/**
 * Output streams in JetStream mode: alerts, dead letters, and one records stream per
 * retention class and agency policy whose `max_age` is that policy's period (see
 * docs/operations.md "Retention"). Throws when one policy name is given two periods.
 */
export function outputStreams(config: ServiceConfig): Array<{ name: string; subjects: string[]; maxAgeDays: number }> {
  const p = config.subjects.prefix;
  const base = config.jetstream.outStream;
  const policies = new Map<string, { nonhitDays: number; hitDays: number; from: string }>();
  const all: Array<[string, ServiceConfig['retention']['default']]> = [['default', config.retention.default], ...Object.entries(config.retention.agencies)];
  for (const [who, pol] of all) {
    const seen = policies.get(pol.policy);
    if (seen !== undefined && (seen.nonhitDays !== pol.nonhitDays || seen.hitDays !== pol.hitDays)) {
      throw new ConfigError(`retention.agencies.${who}.policy`, `config: retention policy "${pol.policy}" has different periods for ${seen.from} and ${who}: give each period its own policy name`);
    }
    policies.set(pol.policy, { nonhitDays: pol.nonhitDays, hitDays: pol.hitDays, from: who });
  }
  const hitDays = Math.max(...[...policies.values()].map((x) => x.hitDays));
  const streams = [
    { name: `${base}_ALERTS`, subjects: [`${p}.alerts.>`], maxAgeDays: hitDays },
    { name: `${base}_DEADLETTER`, subjects: [`${p}.deadletter`], maxAgeDays: 30 },
  ];
  for (const [policy, days] of policies) {
    const token = subjectToken(policy);
    const streamToken = token.replace(/[^A-Za-z0-9_-]/g, '_').toUpperCase();
    streams.push({ name: `${base}_RECORDS_HIT_${streamToken}`, subjects: [`${p}.records.hit.${token}`, `${p}.records.hold.${token}`], maxAgeDays: days.hitDays });
    streams.push({ name: `${base}_RECORDS_NONHIT_${streamToken}`, subjects: [`${p}.records.nonhit.${token}`], maxAgeDays: days.nonhitDays });
  }
  return streams;
}

export async function ensureStreams(nc: NatsConnection, config: ServiceConfig, logger: Logger): Promise<void> {
  const js = config.jetstream;
  await putStreams(nc, config, logger, [
    { name: js.readsStream, subjects: [`${config.subjects.prefix}.reads.>`], maxAgeDays: 7 },
    ...outputStreams(config),
  ]);
  await ensureReadsConsumer(nc, config, logger);
}

/**
 * The output streams only (`platesieve store`): the store consumes them, and creates them when
 * no JetStream-mode service has yet, so that a core-mode service's outputs are kept too.
 */
export async function ensureOutputStreams(nc: NatsConnection, config: ServiceConfig, logger: Logger): Promise<Array<{ name: string; subjects: string[] }>> {
  const streams = outputStreams(config);
  await putStreams(nc, config, logger, streams);
  return streams;
}

/**
 * The stream of alert dispositions published on `<prefix>.dispositions.<agency>`
 * (docs/contracts.md "Dispositions and escalations"). Named after the output streams so that
 * configurations with their own `outStream` (a test's, a second deployment's) never share it;
 * 30 days, as dead letters: once stored in PostgreSQL a disposition is kept there.
 */
export function dispositionsStream(config: Pick<ServiceConfig, 'subjects' | 'jetstream'>): { name: string; subjects: string[]; maxAgeDays: number } {
  return { name: `${config.jetstream.outStream}_DISPOSITIONS`, subjects: [`${config.subjects.prefix}.dispositions.>`], maxAgeDays: 30 };
}

/** Creates or updates the dispositions stream (`platesieve store`); returns its name. */
export async function ensureDispositionsStream(nc: NatsConnection, config: Pick<ServiceConfig, 'subjects' | 'jetstream'>, logger: Logger): Promise<string> {
  const stream = dispositionsStream(config);
  await putStreams(nc, config, logger, [stream]);
  return stream.name;
}

async function putStreams(nc: NatsConnection, config: Pick<ServiceConfig, 'jetstream'>, logger: Logger, streams: ReadonlyArray<{ name: string; subjects: string[]; maxAgeDays: number }>): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const js = config.jetstream;
  const wanted = streams.map((s) => ({ name: s.name, subjects: s.subjects, max_age: nanos(s.maxAgeDays * DAY_MS), retention: JsRetention.Limits }));
  for (const s of wanted) {
    const cfg = { ...s, storage: StorageType.File, duplicate_window: nanos(js.duplicateWindowMs) };
    try {
      await jsm.streams.info(s.name);
      await jsm.streams.update(s.name, cfg);
    } catch {
      await jsm.streams.add(cfg);
      logger.info({ stream: s.name, subjects: s.subjects }, 'stream created');
    }
  }
}

async function ensureReadsConsumer(nc: NatsConnection, config: ServiceConfig, logger: Logger): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const js = config.jetstream;
  try {
    await jsm.consumers.info(js.readsStream, js.consumer);
  } catch {
    await jsm.consumers.add(js.readsStream, {
      durable_name: js.consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(js.ackWaitMs),
      max_ack_pending: js.maxAckPending,
    });
    logger.info({ stream: js.readsStream, consumer: js.consumer }, 'consumer created');
  }
}

