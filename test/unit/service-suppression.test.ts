/**
 * Alert suppression: one alert per entry and camera per window, repeats counted into the next
 * alert's sightings, read time preferred over the clock, and memory bounded.
 */
import { describe, expect, it } from 'vitest';
import { OptionsError } from '../../matcher/errors.js';
import { AlertSuppressor } from '../../matcher/service/suppression.js';
import type { Alert } from '../../matcher/types.js';

const MIN = 60_000;
const T0 = Date.UTC(2025, 5, 1, 12);

function alert(entryId: string, cameraId: string | undefined, ts?: number): Alert {
  return {
    readId: `r-${Math.random()}`,
    plate: 'ABC123',
    matchedPlate: 'ABC123',
    entryId,
    hotlistPlate: 'ABC123',
    list: 'STOLEN_VEHICLE',
    priority: 1,
    match: 'exact',
    distance: 0,
    score: 1,
    hotlistVersion: 'v1',
    hotlistAgeS: 0,
    verify: 'confirm',
    cameraId,
    ts,
  };
}

describe('AlertSuppressor', () => {
  it('emits the first alert of an entry and camera with one sighting', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN });
    expect(s.offer(alert('e1', 'cam1', T0))).toBe(1);
    expect(s.size).toBe(1);
  });

  it('suppresses repeats within the window and reports them on the next alert after it', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN });
    expect(s.offer(alert('e1', 'cam1', T0))).toBe(1);
    expect(s.offer(alert('e1', 'cam1', T0 + 1 * MIN))).toBeUndefined();
    expect(s.offer(alert('e1', 'cam1', T0 + 2 * MIN))).toBeUndefined();
    expect(s.offer(alert('e1', 'cam1', T0 + 5 * MIN - 1))).toBeUndefined();
    expect(s.suppressedCount).toBe(3);
    // At exactly windowMs after the last emitted alert the next one is emitted.
    expect(s.offer(alert('e1', 'cam1', T0 + 5 * MIN))).toBe(4);
    // The window restarts at the emitted alert, and the count restarts at zero.
    expect(s.offer(alert('e1', 'cam1', T0 + 6 * MIN))).toBeUndefined();
    expect(s.offer(alert('e1', 'cam1', T0 + 11 * MIN))).toBe(2);
    expect(s.offer(alert('e1', 'cam1', T0 + 30 * MIN))).toBe(1);
  });

  it('measures the window from the last emitted alert, not the last sighting', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN });
    s.offer(alert('e1', 'cam1', T0));
    // A parked car read every minute: one alert per five minutes, not one in all.
    const emitted: Array<[number, number]> = [];
    for (let m = 1; m <= 15; m++) {
      const sightings = s.offer(alert('e1', 'cam1', T0 + m * MIN));
      if (sightings !== undefined) emitted.push([m, sightings]);
    }
    expect(emitted).toEqual([
      [5, 5],
      [10, 5],
      [15, 5],
    ]);
  });

  it('keeps entries and cameras apart', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN });
    expect(s.offer(alert('e1', 'cam1', T0))).toBe(1);
    expect(s.offer(alert('e1', 'cam2', T0))).toBe(1);
    expect(s.offer(alert('e2', 'cam1', T0))).toBe(1);
    expect(s.offer(alert('e1', 'cam1', T0 + MIN))).toBeUndefined();
    expect(s.offer(alert('e2', 'cam2', T0 + MIN))).toBe(1);
    expect(s.size).toBe(4);
    // Ids that would collide if joined naively stay distinct.
    expect(s.offer(alert('a', 'bc', T0))).toBe(1);
    expect(s.offer(alert('ab', 'c', T0))).toBe(1);
  });

  it('never suppresses an alert without a camera', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN });
    expect(s.offer(alert('e1', undefined, T0))).toBe(1);
    expect(s.offer(alert('e1', undefined, T0))).toBe(1);
    expect(s.offer(alert('e1', '', T0))).toBe(1);
    expect(s.size).toBe(0);
  });

  it('emits every alert with one sighting when the window is 0', () => {
    const s = new AlertSuppressor({ windowMs: 0 });
    for (let i = 0; i < 5; i++) expect(s.offer(alert('e1', 'cam1', T0))).toBe(1);
    expect(s.size).toBe(0);
  });

  it('uses the clock for alerts without a read time', () => {
    let now = T0;
    const s = new AlertSuppressor({ windowMs: 5 * MIN, now: () => now });
    expect(s.offer(alert('e1', 'cam1'))).toBe(1);
    now += MIN;
    expect(s.offer(alert('e1', 'cam1'))).toBeUndefined();
    now += 5 * MIN;
    expect(s.offer(alert('e1', 'cam1'))).toBe(2);
  });

  it('windows a replayed backlog by read time, whatever the clock says', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN, now: () => T0 + 365 * 24 * 60 * MIN });
    let emitted = 0;
    for (let m = 0; m < 60; m++) if (s.offer(alert('e1', 'cam1', T0 + m * MIN)) !== undefined) emitted++;
    expect(emitted).toBe(12);
  });

  it('suppresses a late read that falls within the window before the last alert', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN });
    expect(s.offer(alert('e1', 'cam1', T0 + 10 * MIN))).toBe(1);
    expect(s.offer(alert('e1', 'cam1', T0 + 8 * MIN))).toBeUndefined();
    // Far older than the window: a separate sighting, emitted, and the window does not move back.
    expect(s.offer(alert('e1', 'cam1', T0))).toBe(2);
    expect(s.offer(alert('e1', 'cam1', T0 + 12 * MIN))).toBeUndefined();
  });

  it('forgets a key not seen for forgetAfterMs, the same whether or not it was pruned', () => {
    const opts = { windowMs: 5 * MIN, forgetAfterMs: 30 * MIN };
    const pruned = new AlertSuppressor({ ...opts, pruneEvery: 1 });
    const unpruned = new AlertSuppressor({ ...opts, pruneEvery: 1_000_000 });
    for (const s of [pruned, unpruned]) {
      s.offer(alert('e1', 'cam1', T0));
      s.offer(alert('e1', 'cam1', T0 + MIN));
      s.offer(alert('e2', 'cam1', T0 + 40 * MIN));
    }
    expect(pruned.size).toBe(1);
    expect(unpruned.size).toBe(2);
    // A repeat counted before the key was forgotten is not reported.
    expect(pruned.offer(alert('e1', 'cam1', T0 + 41 * MIN))).toBe(1);
    expect(unpruned.offer(alert('e1', 'cam1', T0 + 41 * MIN))).toBe(1);
  });

  it('keeps a repeat count across a quiet gap shorter than forgetAfterMs', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN, forgetAfterMs: 60 * MIN });
    s.offer(alert('e1', 'cam1', T0));
    s.offer(alert('e1', 'cam1', T0 + 2 * MIN));
    expect(s.offer(alert('e1', 'cam1', T0 + 40 * MIN))).toBe(2);
  });

  it('prune() drops forgotten keys by the latest read time offered', () => {
    const s = new AlertSuppressor({ windowMs: MIN, forgetAfterMs: 10 * MIN, pruneEvery: 1_000_000 });
    for (let i = 0; i < 100; i++) s.offer(alert(`e${i}`, 'cam1', T0));
    s.offer(alert('late', 'cam1', T0 + 5 * MIN));
    s.prune();
    expect(s.size).toBe(101);
    s.offer(alert('later', 'cam1', T0 + 10 * MIN));
    s.prune();
    expect(s.size).toBe(2);
  });

  it('holds at most maxKeys keys, dropping the least recently seen', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN, maxKeys: 3 });
    s.offer(alert('e1', 'cam1', T0));
    s.offer(alert('e2', 'cam1', T0 + 1));
    s.offer(alert('e3', 'cam1', T0 + 2));
    // Touch e1: e2 becomes the least recently seen.
    expect(s.offer(alert('e1', 'cam1', T0 + 3))).toBeUndefined();
    s.offer(alert('e4', 'cam1', T0 + 4));
    expect(s.size).toBe(3);
    expect(s.offer(alert('e1', 'cam1', T0 + 5))).toBeUndefined();
    expect(s.offer(alert('e3', 'cam1', T0 + 6))).toBeUndefined();
    // e2 was dropped: it is new again.
    expect(s.offer(alert('e2', 'cam1', T0 + 7))).toBe(1);
    expect(s.size).toBe(3);
  });

  it('stays bounded under a flood of distinct keys', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN, maxKeys: 1000 });
    for (let i = 0; i < 50_000; i++) s.offer(alert(`e${i}`, `cam${i % 7}`, T0 + i));
    expect(s.size).toBe(1000);
  });

  it('refuses bad options naming the key', () => {
    expect(() => new AlertSuppressor({ windowMs: -1 })).toThrow(OptionsError);
    expect(() => new AlertSuppressor({ windowMs: Number.NaN })).toThrow(/options\.windowMs/);
    expect(() => new AlertSuppressor({ windowMs: 1000, maxKeys: 0 })).toThrow(/options\.maxKeys/);
    expect(() => new AlertSuppressor({ windowMs: 10_000, forgetAfterMs: 1000 })).toThrow(/options\.forgetAfterMs/);
  });
});

/** An alert as the service makes it: with the alertId a redelivery of its read makes again. */
function sent(alertId: string, entryId: string, cameraId: string, ts: number): Alert {
  return { ...alert(entryId, cameraId, ts), alertId };
}

describe('AlertSuppressor: tentative offers (commit after store)', () => {
  it('emits an alert again when its first emission was rolled back (not stored), with the same sightings', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN });
    s.offer(sent('a0', 'e1', 'cam1', T0));
    expect(s.offer(sent('r1', 'e1', 'cam1', T0 + MIN))).toBeUndefined();
    const first = s.offerTentative(sent('a1', 'e1', 'cam1', T0 + 6 * MIN));
    expect(first.sightings).toBe(2);
    first.rollback();
    // The redelivery: the same alert, not a repeat of itself.
    const again = s.offerTentative(sent('a1', 'e1', 'cam1', T0 + 6 * MIN));
    expect(again.sightings).toBe(2);
    expect(again.commit()).toBe(true);
    expect(s.offer(sent('r2', 'e1', 'cam1', T0 + 7 * MIN))).toBeUndefined();
  });

  it('forgets a key made only by an offer that was rolled back', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN });
    s.offerTentative(sent('a1', 'e1', 'cam1', T0)).rollback();
    expect(s.size).toBe(0);
    expect(s.offer(sent('a1', 'e1', 'cam1', T0))).toBe(1);
  });

  it('suppresses a repeat while the alert before it is in flight, and counts it once when its message is redelivered', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN });
    const alertOffer = s.offerTentative(sent('a1', 'e1', 'cam1', T0));
    expect(alertOffer.sightings).toBe(1);
    // The next batch, while the alert is not yet stored: a repeat.
    const repeat = s.offerTentative(sent('r1', 'e1', 'cam1', T0 + MIN));
    expect(repeat.sightings).toBeUndefined();
    expect(alertOffer.commit()).toBe(true);
    // The repeat's message failed: undone, then offered again on redelivery and kept.
    repeat.rollback();
    const repeatAgain = s.offerTentative(sent('r1', 'e1', 'cam1', T0 + MIN));
    expect(repeatAgain.sightings).toBeUndefined();
    expect(repeatAgain.commit()).toBe(true);
    expect(s.suppressedCount).toBe(1);
    // One repeat, not two.
    expect(s.offer(sent('a2', 'e1', 'cam1', T0 + 5 * MIN))).toBe(2);
  });

  it('keeps a repeat decided against an alert that was rolled back, and counts it into that alert when it is emitted again', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN });
    const first = s.offerTentative(sent('a1', 'e1', 'cam1', T0));
    const repeat = s.offerTentative(sent('r1', 'e1', 'cam1', T0 + MIN));
    expect(repeat.sightings).toBeUndefined();
    expect(repeat.commit()).toBe(true);
    first.rollback();
    expect(s.suppressedCount).toBe(1);
    const again = s.offerTentative(sent('a1', 'e1', 'cam1', T0));
    expect(again.sightings).toBe(2);
    expect(again.commit()).toBe(true);
    expect(s.offer(sent('r2', 'e1', 'cam1', T0 + 2 * MIN))).toBeUndefined();
  });

  it('emits again, never suppresses, an alert offered again after it was stored (the ack was lost), and reports it as no new alert', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN });
    const first = s.offerTentative(sent('a1', 'e1', 'cam1', T0));
    expect(first.commit()).toBe(true);
    expect(s.offer(sent('r1', 'e1', 'cam1', T0 + MIN))).toBeUndefined();
    // Redelivered: same alertId, same sightings, and the stream's dedupe keeps one copy.
    const again = s.offerTentative(sent('a1', 'e1', 'cam1', T0));
    expect(again.sightings).toBe(1);
    expect(again.commit()).toBe(false);
    // The repeat counted in between still goes to the next alert.
    expect(s.offer(sent('a2', 'e1', 'cam1', T0 + 5 * MIN))).toBe(2);
  });

  it('rebuilds the state from the decisions still in force when one in the middle is rolled back', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN });
    const a = s.offerTentative(sent('a1', 'e1', 'cam1', T0));
    const b = s.offerTentative(sent('b1', 'e1', 'cam1', T0 + 6 * MIN));
    expect(b.sightings).toBe(1);
    a.rollback();
    expect(b.commit()).toBe(true);
    expect(s.offer(sent('r1', 'e1', 'cam1', T0 + 7 * MIN))).toBeUndefined();
    // The rolled-back alert, offered again: six minutes before the one in force, so emitted,
    // with the repeat counted since that one.
    expect(s.offer(sent('a1', 'e1', 'cam1', T0))).toBe(2);
  });

  it('settles an offer once: commit after rollback, or twice, changes nothing', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN });
    const o = s.offerTentative(sent('a1', 'e1', 'cam1', T0));
    o.rollback();
    expect(o.commit()).toBe(false);
    expect(s.size).toBe(0);
    const r = s.offerTentative(sent('a2', 'e1', 'cam1', T0));
    expect(r.commit()).toBe(true);
    expect(r.commit()).toBe(false);
    r.rollback();
    expect(s.offer(sent('r1', 'e1', 'cam1', T0 + MIN))).toBeUndefined();
  });

  it('never suppresses alerts without a camera, and their offers settle as new alerts', () => {
    const s = new AlertSuppressor({ windowMs: 5 * MIN });
    const o = s.offerTentative(sent('a1', 'e1', '', T0));
    expect(o.sightings).toBe(1);
    expect(o.commit()).toBe(true);
    expect(s.size).toBe(0);
  });

  it('ends, once every decision is settled, where the committed decisions alone would have led (random sequences)', () => {
    // Commits only: the tentative path must decide exactly like offer().
    for (let seed = 1; seed <= 20; seed++) {
      let x = seed;
      const rnd = (): number => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
      const a = new AlertSuppressor({ windowMs: 5 * MIN });
      const b = new AlertSuppressor({ windowMs: 5 * MIN });
      const pending: Array<ReturnType<AlertSuppressor['offerTentative']>> = [];
      for (let i = 0; i < 300; i++) {
        const al = sent(`x${i}`, `e${Math.floor(rnd() * 3)}`, `cam${Math.floor(rnd() * 2)}`, T0 + Math.floor(rnd() * 60) * MIN);
        const o = a.offerTentative(al);
        expect(o.sightings).toBe(b.offer(al));
        pending.push(o);
        // Settle in a shuffled order, some while later offers are pending.
        while (pending.length > 0 && rnd() < 0.4) pending.splice(Math.floor(rnd() * pending.length), 1)[0].commit();
      }
      for (const o of pending) o.commit();
      expect(a.suppressedCount).toBe(b.suppressedCount);
      for (let k = 0; k < 3; k++) {
        for (let c = 0; c < 2; c++) {
          const probe = sent(`p${k}${c}`, `e${k}`, `cam${c}`, T0 + 200 * MIN);
          expect(a.offer(probe)).toBe(b.offer(probe));
        }
      }
    }
  });
});
