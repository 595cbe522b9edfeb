/** Replaying a candidate matching setting over stored reads (docs/replay.md). */
export { replay, emptyCounts, ReplayError, type ReplayCandidate, type ReplayCounts, type ReplayErrorCode, type ReplayOptions, type ReplayReport } from './replay.js';
export { loadCandidate } from './candidate.js';
export { formatReplay } from './report-text.js';
export { auditedReplay, REPLAY_PURPOSE, type ReplayActor, type ReplayRequest } from './audited.js';
