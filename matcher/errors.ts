/**
 * Typed errors with stable `code` strings. Callers switch on `code`, never on messages.
 */
import type { InvalidReadCode } from './types.js';

/** Base class of every platesieve error. */
export class PlatesieveError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An option of a public function is missing, of the wrong type or out of range. */
export class OptionsError extends PlatesieveError {
  readonly key: string;
  constructor(key: string, message: string) {
    super('ERR_OPTIONS', `options.${key} ${message}`);
    this.key = key;
  }
}

/** A read cannot be matched (bad plate, wrong field types). */
export class InvalidReadError extends PlatesieveError {
  readonly reason: InvalidReadCode;
  readonly readId?: string;
  constructor(reason: InvalidReadCode, message: string, readId?: string) {
    super('ERR_INVALID_READ', message);
    this.reason = reason;
    this.readId = readId;
  }
}

/** A hotlist entry is malformed. `line` is set when it came from a file. */
export class InvalidEntryError extends PlatesieveError {
  readonly index: number;
  readonly line?: number;
  readonly file?: string;
  constructor(message: string, context: { index: number; line?: number; file?: string }) {
    super('ERR_INVALID_ENTRY', message);
    this.index = context.index;
    this.line = context.line;
    this.file = context.file;
  }
}

/**
 * What is wrong with a hotlist file as a whole, where a caller can help the user act on it.
 * Stable; more may be added. `NO_PLATE_COLUMN`: the header names no plate (or pattern)
 * column, typically an extract read as CSV, or a delimited file split on the wrong character.
 */
export type HotlistFileProblem = 'NO_PLATE_COLUMN';

/** A hotlist file cannot be read or parsed as a whole. */
export class HotlistFileError extends PlatesieveError {
  readonly file: string;
  /** Set for the problems a caller can give advice on. */
  readonly problem?: HotlistFileProblem;
  /** With `NO_PLATE_COLUMN`: the fields of the header row as they were split. */
  readonly header?: readonly string[];
  constructor(file: string, message: string, options?: { cause?: unknown; problem?: HotlistFileProblem; header?: readonly string[] }) {
    super('ERR_HOTLIST_FILE', `${file}: ${message}`, options);
    this.file = file;
    if (options?.problem !== undefined) this.problem = options.problem;
    if (options?.header !== undefined) this.header = options.header;
  }
}

/** The WebAssembly core failed to load or ran out of memory. */
export class CoreError extends PlatesieveError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CORE', message, options);
  }
}

/** One problem found in the service configuration. */
export interface ConfigIssue {
  /** Dotted key path, e.g. `pool.workers` or `hotlists[0].file`; empty for the file as a whole. */
  key: string;
  /** One line, starting with `config: `. */
  message: string;
}

/**
 * The service configuration (file, flags or environment) is invalid. `key` names the first bad
 * key; `issues` lists every problem found, and the message has one line per issue.
 */
export class ConfigError extends PlatesieveError {
  readonly key: string;
  readonly issues: readonly ConfigIssue[];
  constructor(key: string, message: string, options?: { cause?: unknown; issues?: readonly ConfigIssue[] }) {
    super('ERR_CONFIG', message, options);
    this.key = key;
    this.issues = options?.issues ?? [{ key, message }];
  }
}

/** A partial-plate pattern is malformed (bad syntax, too long, or matching every plate). */
export class PatternError extends PlatesieveError {
  /** Index of the pattern in the list given to the compiler. */
  readonly index: number;
  readonly pattern: string;
  constructor(message: string, context: { index: number; pattern: string }) {
    super('ERR_PATTERN', message);
    this.index = context.index;
    this.pattern = context.pattern;
  }
}

/** Why a purpose check refused (see `matcher/policy/purpose.ts` and docs/audit.md). */
export interface PurposeRefusalInfo {
  /** The forbidden category, or `UNAUTHORIZED_PURPOSE` / `UNDOCUMENTED`. */
  category: string;
  /** Stable refusal code, e.g. `FORBIDDEN_PURPOSE`, `UNKNOWN_PURPOSE`, `MISSING_CASE`. */
  refusal: string;
  /** One line for the operator. */
  reason: string;
  /** The policy clause(s) the refusal rests on. */
  citation: string;
}

/** An operator action or a hotlist entry is for a purpose the policies forbid or do not allow. */
export class PurposeRefusedError extends PlatesieveError {
  readonly category: string;
  readonly refusal: string;
  readonly reason: string;
  readonly citation: string;
  constructor(info: PurposeRefusalInfo, options?: { cause?: unknown }) {
    super('ERR_PURPOSE_REFUSED', `refused (${info.category}): ${info.reason} [${info.citation}]`, options);
    this.category = info.category;
    this.refusal = info.refusal;
    this.reason = info.reason;
    this.citation = info.citation;
  }
}

/** The audit log cannot be opened, appended to or continued (broken chain, lock held, I/O). */
export class AuditError extends PlatesieveError {
  readonly file: string;
  /** 1-based line of the problem, when it is one line of the file. */
  readonly line?: number;
  constructor(file: string, message: string, options?: { cause?: unknown; line?: number }) {
    super('ERR_AUDIT', `${file}: ${message}`, options);
    this.file = file;
    this.line = options?.line;
  }
}

/** A new hotlist version was refused (it looks truncated); the version in force stays. */
export class HotlistRefusedError extends PlatesieveError {
  readonly file: string;
  constructor(file: string, message: string) {
    super('ERR_HOTLIST_REFUSED', `${file}: ${message}`);
    this.file = file;
  }
}
