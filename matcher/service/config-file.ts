/**
 * Reading a configuration file for `platesieve serve` and the hotlist CLI: YAML or JSON,
 * `${VAR}` expansion, and one `config: <key> ...` line per problem (ConfigError).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A parsed object not validated yet. */
export type RawObject = Record<string, unknown>;

export function isObject(v: unknown): v is RawObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A key path as the messages name it: `hotlists[0].file`. */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** Throws one ConfigError for every issue (the first names the key). */
export function fail(issues: ConfigIssue[], cause?: unknown): never {
  throw new ConfigError(issues[0].key, issues.map((i) => i.message).join('\n'), { issues, cause });
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  try {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    // JSON.stringify throws on a cycle or a BigInt: the value's default text will do.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a fallback, for values JSON cannot write
    return String(value);
  }
}

/** Deepest nesting of `[` and `{` a config file may have. */
const MAX_CONFIG_DEPTH = 64;

/** How deep `[` and `{` nest in `text` (quotes not told apart: no setting needs 64 brackets). */
function flowDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
  return max;
}

/**
 * Whether a parsed value contains itself: YAML lets an alias name an enclosing anchor, and
 * expandVars and the schema would then recurse forever (a 447-byte file took seconds and
 * ended in a RangeError; found by `npm run fuzz`).
 */
function containsItself(value: unknown, enclosing = new Set<object>()): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (enclosing.has(value)) return true;
  enclosing.add(value);
  for (const v of Object.values(value)) if (containsItself(v, enclosing)) return true;
  enclosing.delete(value);
  return false;
}

/** Reads and parses the file: YAML for .yaml/.yml, JSON for .json, else sniffed from the first character. */
export function readConfigFile(file: string): RawObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    fail([{ key: '', message: `config: cannot read ${file}: ${(err as Error).message}` }], err);
  }
  const ext = extname(file).toLowerCase();
  const json = ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && /^\s*[{[]/.test(text));
  // Both parsers (and expandVars) recurse per level: a few thousand brackets overflow the
  // stack (a RangeError, not a ConfigError) or keep YAML busy for seconds. No real
  // configuration nests anywhere near this deep.
  if (flowDepth(text) > MAX_CONFIG_DEPTH) fail([{ key: '', message: `config: ${file} nests [ and { more than ${MAX_CONFIG_DEPTH} levels deep` }]);
  let data: unknown;
  try {
    data = json ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const what = json ? 'JSON' : 'YAML';
    const detail = (err as Error).message.split('\n')[0];
    fail([{ key: '', message: `config: ${file} is not valid ${what}: ${detail}` }], err);
  }
  if (data === null || data === undefined) return {};
  if (!isObject(data)) fail([{ key: '', message: `config: ${file} must hold an object of settings (got ${describe(data)})` }]);
  if (containsItself(data)) fail([{ key: '', message: `config: ${file} has a value that contains itself (a YAML alias inside its own anchor)` }]);
  return data;
}

const VAR_RE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Expands `${VAR}` and `${VAR:-default}` in every string value; `$$` is a literal `$`. */
export function expandVars(value: unknown, path: PropertyKey[], env: NodeJS.ProcessEnv, issues: ConfigIssue[]): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR_RE, (match, name: string | undefined, fallback: string | undefined) => {
      if (name === undefined) return '$';
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      const key = keyPath(path);
      issues.push({ key, message: `config: ${key} refers to \${${name}}, which is not set in the environment` });
      return match;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandVars(v, [...path, i], env, issues));
  if (isObject(value)) {
    const out: RawObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandVars(v, [...path, k], env, issues);
    return out;
  }
  return value;
}

/** One or more `config: <key> ...` lines for a schema issue. */
export function formatIssue(issue: z.core.$ZodIssue): ConfigIssue[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => {
      const key = keyPath([...issue.path, k]);
      return { key, message: `config: ${key} is not a known setting` };
    });
  }
  const key = keyPath(issue.path);
  const input = (issue as { input?: unknown }).input;
  const shown = key || '(top level)';
  if (input === undefined) return [{ key, message: `config: ${shown} is required: it ${issue.message}` }];
  return [{ key, message: `config: ${shown} ${issue.message} (got ${describe(input)})` }];
}
