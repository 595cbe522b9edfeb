/** The fuzz targets. */
import type { Target } from '../types.js';
import { configTarget } from './config.js';
import { hotlistTargets } from './hotlist.js';
import { jsonTarget } from './json.js';
import { msgpackTarget } from './msgpack.js';
import { patternsTarget } from './patterns.js';

/** Every fuzz target, in the order the runner takes them. */
export const TARGETS: readonly Target[] = [msgpackTarget, jsonTarget, ...hotlistTargets, patternsTarget, configTarget];

/** The target called `name`, or undefined. */
export function targetNamed(name: string): Target | undefined {
  return TARGETS.find((t) => t.name === name);
}
