/**
 * Waiting helpers for the reliability harness: a promise-based sleep and a bounded poll.
 */

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `f` every `everyMs` until true or `timeoutMs`; returns whether it became true. */
export async function until(f: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await f()) return true;
    } catch {
      // a poll that fails (server restarting) counts as "not yet"
    }
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}
