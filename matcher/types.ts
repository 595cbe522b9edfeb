/**
 * Public data types of platesieve. Field names follow the contracts in docs/contracts.md
 * (camelCase, epoch milliseconds on the wire, ISO 8601 accepted on input).
 */

/** A matching tier handled by the WebAssembly core, best first. */
export type MatchTier = 'exact' | 'ocr' | 'fuzzy';

/** All tier names a list can be given, best first. */
export const MATCH_TIERS: readonly MatchTier[] = ['exact', 'ocr', 'fuzzy'];

/** Tier of an alert: a hotlist tier, or `partial` for a partial-plate pattern entry. */
export type AlertTier = MatchTier | 'partial';

/** Vehicle description, on a read or a hotlist entry. */
export interface VehicleDescription {
  make?: string;
  model?: string;
  colour?: string;
  type?: string;
}

/** An alternative OCR reading of the same plate. */
export interface OcrCandidate {
  plate: string;
  /** 0..1; defaults to the read's confidence. */
  confidence?: number;
}

/** One plate read from a camera (input). Only `plate` is required. */
export interface PlateRead {
  id?: string;
  plate: string;
  state?: string;
  /** Epoch milliseconds, or an ISO 8601 string. */
  ts?: number | string;
  cameraId?: string;
  /** ORI of the owning agency. */
  agency?: string;
  /** OCR confidence 0..1. */
  confidence?: number;
  candidates?: OcrCandidate[];
  lat?: number;
  lon?: number;
  heading?: number;
  imageRef?: string;
  vehicle?: VehicleDescription;
}

/**
 * A hotlist entry (input): `plate`, or `pattern` for a partial-plate entry, which also
 * requires `case`, `enteredBy`, `purpose` and `expires`.
 */
export interface HotlistEntry {
  id?: string;
  plate?: string;
  /** Partial-plate pattern: `?` one character, `*` any run, `[AB8]` one of a set (separators ignored). */
  pattern?: string;
  state?: string;
  /** List type: STOLEN_VEHICLE, STOLEN_PLATE, WANTED, MISSING_PERSON, AMBER, SILVER, FELONY_VEHICLE, PROTECTION_ORDER, BOLO, or a local code. */
  list: string;
  /** 1 (highest) .. 5. */
  priority?: number;
  /** NCIC, CCIC, LOCAL, ... */
  source?: string;
  /** Source record number (NIC, OCA, ...). */
  ref?: string;
  ori?: string;
  entered?: number | string;
  expires?: number | string;
  case?: string;
  notes?: string;
  enteredBy?: string;
  purpose?: string;
  vehicle?: VehicleDescription;
}

/** A hit of a read against a hotlist entry (output). */
export interface Alert {
  /** Unique per alert; set by the service, absent from the library's alerts. */
  alertId?: string;
  readId: string;
  /** The plate as read (before normalization). */
  plate: string;
  /** The normalized plate that matched: the read's plate or one of its OCR candidates. */
  matchedPlate: string;
  state?: string;
  ts?: number;
  cameraId?: string;
  agency?: string;
  entryId: string;
  /** The entry's normalized plate (absent for a partial entry). */
  hotlistPlate?: string;
  /** The partial entry's pattern, normalized (absent for a plate entry). */
  pattern?: string;
  /** Case number of a partial entry. */
  case?: string;
  hotlistState?: string;
  list: string;
  priority: number;
  source?: string;
  ref?: string;
  match: AlertTier;
  /** Edit distance after OCR-class mapping (0 for exact and ocr; for partial, literals matched only as OCR equivalents). */
  distance: number;
  /** How likely the read is of the hotlisted vehicle, in [0, 1]; see docs/scoring.md. */
  score: number;
  /** True when the read's state differs from the entry's and the matcher was set to match anyway. */
  stateMismatch?: boolean;
  imageRef?: string;
  hotlistVersion: string;
  /** Age in seconds of the entry's source refresh when the alert was made. */
  hotlistAgeS: number;
  /** What the officer must confirm before acting: an alert is a lead, never grounds for a stop on its own. */
  verify: string;
  /** True when the entry's source is older than its allowed age (service only): confirm the record is still active. */
  stale?: boolean;
  /**
   * Reads of this entry by this camera since its last alert, this one included; suppressed
   * repeats in the window are counted here. Set by the service, absent from the library's alerts.
   */
  sightings?: number;
  /**
   * True for a historical hit: a stored read matched against an entry added after the read was
   * made (`platesieve store`, docs/store.md). `ts`, `cameraId` and `agency` are the read's: it
   * says where the vehicle was then, not where it is now. Absent from live alerts.
   */
  historical?: boolean;
}

/** Why a read could not be matched. Stable codes. */
export type InvalidReadCode =
  | 'NOT_AN_OBJECT'
  | 'MISSING_PLATE'
  | 'EMPTY_PLATE'
  | 'PLATE_TOO_LONG'
  | 'INVALID_CHARACTER'
  | 'BAD_FIELD';

/** A read of a batch that was rejected; the rest of the batch is still matched. */
export interface InvalidRead {
  /** Position of the read in the batch. */
  index: number;
  readId?: string;
  code: InvalidReadCode;
  reason: string;
}

/** What `matchBatch` returns. */
export interface BatchResult {
  alerts: Alert[];
  invalid: InvalidRead[];
}

/** How a read whose state differs from an entry's is treated. */
export type StateMismatchPolicy = 'reject' | 'match';

/** Options of {@link createMatcher}. */
export interface MatcherOptions {
  entries: readonly HotlistEntry[];
  /** Tiers applied to every list, overriding `listTiers` and the defaults. */
  tiers?: readonly MatchTier[];
  /** Tiers per list type. Lists not named get `exact` and `ocr`. */
  listTiers?: Readonly<Record<string, readonly MatchTier[]>>;
  /** OCR-confusable classes, each a string of characters; the first is the representative. Default `0ODQ 1IL 2Z 5S 8B 6G`. */
  ocrClasses?: readonly string[];
  /** Maximum edit distance of the fuzzy tier, 0..2. Default 1. */
  maxDistance?: number;
  /** Default `reject`: a read whose state differs from the entry's does not match. */
  stateMismatch?: StateMismatchPolicy;
  /** Target false-positive rate of the prefilter. Default 0.01. */
  prefilterFalsePositiveRate?: number;
  /** Bloom prefilter in front of the tables. Default true; off only to measure what it buys. */
  prefilter?: boolean;
  /** Version label carried by every alert. Default: a hash of the entries. */
  hotlistVersion?: string;
  /** Refresh time (epoch ms) of each source, for `hotlistAgeS`. Default: build time. */
  sourceRefreshedAt?: Readonly<Record<string, number>>;
  /** Alerts scoring below this are dropped. Default 0. */
  minScore?: number;
  /** Partial-plate patterns also match a literal's OCR equivalents (`8` for `B`). Default false. */
  partialOcr?: boolean;
}

/** Figures about a built matcher. */
export interface MatcherStats {
  /** Entries indexed (after merging duplicates and skipping junk). */
  entries: number;
  duplicatesMerged: number;
  junkSkipped: number;
  /** Entries indexed for the fuzzy tier. */
  fuzzyEntries: number;
  /** Partial-plate pattern entries. */
  partialEntries: number;
  /** Keys in the fuzzy (deletion-neighbourhood) index. */
  fuzzyKeys: number;
  /** Bytes of the compiled snapshot (tables, filters, postings): what each worker holds. */
  memoryBytes: number;
  /** Bytes of WebAssembly linear memory of this matcher's instance (snapshot, build scratch, batch buffers). */
  coreMemoryBytes: number;
  bytesPerEntry: number;
  buildTimeMs: number;
  prefilterBits: number;
  prefilterFalsePositiveRate: number;
  hotlistVersion: string;
}

/** A compiled hotlist matcher. Synchronous; not safe to share across threads (use its snapshot). */
export interface Matcher {
  /** Matches one read. Throws {@link InvalidReadError} when the read is malformed. */
  match(read: PlateRead): Alert[];
  /** Matches a batch in one call into the core. Malformed reads are reported, never thrown. */
  matchBatch(reads: readonly PlateRead[]): BatchResult;
  stats(): MatcherStats;
  /** The compiled hotlist, to instantiate in another thread with {@link createMatcherFromSnapshot} without recompiling. */
  snapshot(): MatcherSnapshot;
}

/** Matching settings a snapshot carries (plain data, structured-clone safe). */
export interface SnapshotSettings {
  tiers?: MatchTier[];
  listTiers: Record<string, MatchTier[]>;
  ocrClasses: string[];
  maxDistance: number;
  stateMismatch: StateMismatchPolicy;
  prefilterFalsePositiveRate: number;
  prefilter: boolean;
  sourceRefreshedAt: Record<string, number>;
  minScore: number;
  partialOcr: boolean;
}

/** What a worker needs of a partial entry to check it without the entry list. */
export interface PartialFilter {
  entry: number;
  pattern: string;
  vehicle?: VehicleDescription;
}

/**
 * A compiled hotlist: the core's tables as one position-independent byte block plus what
 * the host needs beside them. Plain data: post it to a worker (transfer `bytes` or copy it).
 */
export interface MatcherSnapshot {
  format: 1;
  bytes: Uint8Array;
  /** Pattern index of the partial entries, when there are any. */
  patterns?: Uint8Array;
  partials: PartialFilter[];
  version: string;
  states: Array<[string, number]>;
  settings: SnapshotSettings;
  stats: Omit<MatcherStats, 'coreMemoryBytes' | 'prefilterFalsePositiveRate' | 'memoryBytes' | 'bytesPerEntry' | 'hotlistVersion'>;
}

/** How long a read record is kept: `hold` keeps it out of deletion as evidence. */
export type RetentionClass = 'nonhit' | 'hit' | 'hold';

/** The retention tag of a read record (docs/contracts.md "Record"). */
export interface Retention {
  /** Name of the agency policy applied. */
  policy: string;
  class: RetentionClass;
  /** Epoch ms when the record falls due for deletion (read time + the policy's days). */
  expiresAt: number;
  /** Legal basis of the retention period, as written in the agency's policy. */
  basis: string;
  /**
   * With class `hold`: the evidence holds that cover the read (its plate, at its time). The
   * record is copied into the store's evidence under each, kept until the hold is released;
   * `expiresAt` stays the period the record would have without the hold.
   */
  holdIds?: string[];
}

/**
 * One record per read (docs/contracts.md "Record"): the read with its id and epoch-ms `ts`, whether it
 * hit, the ids of its alerts, and its retention tag. Published on `<prefix>.records.<class>.<policy>`.
 */
export interface ReadRecord extends Omit<PlateRead, 'id' | 'ts'> {
  id: string;
  /** Epoch milliseconds (an ISO 8601 input is converted). */
  ts?: number;
  /** True when the read raised at least one alert. */
  hit: boolean;
  alertIds: string[];
  retention: Retention;
}
