/**
 * A small reader of the Prometheus text exposition format (0.0.4), as prom-client writes it,
 * for the dashboard sampler (dashboard.ts). It keeps samples and `# TYPE` lines; HELP, exemplars
 * and timestamps are read past. Lines it cannot read are skipped, never thrown on: one odd line
 * of a scrape must not cost the whole sample.
 */

/** One sample line: `name{labels} value`. */
export interface PromSample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

/** A parsed exposition: samples by metric name (histogram series keep their suffixes), and declared types. */
export interface PromText {
  samples: ReadonlyMap<string, readonly PromSample[]>;
  /** `# TYPE name type` of each metric family. */
  types: ReadonlyMap<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseValue(s: string): number | undefined {
  switch (s) {
    case '+Inf': case 'Inf': return Infinity;
    case '-Inf': return -Infinity;
    case 'NaN': return NaN;
    default: {
      const v = Number(s);
      return s !== '' && !Number.isNaN(v) ? v : undefined;
    }
  }
}

/** Reads `{a="x",b="y"}` starting at `i` (the `{`); returns the labels and the index after `}`. */
function parseLabels(line: string, i: number): { labels: Record<string, string>; end: number } | undefined {
  const labels: Record<string, string> = {};
  let p = i + 1;
  for (;;) {
    while (line[p] === ' ' || line[p] === ',') p++;
    if (line[p] === '}') return { labels, end: p + 1 };
    const m = NAME.exec(line.slice(p));
    if (m === null) return undefined;
    const key = m[0];
    p += key.length;
    while (line[p] === ' ') p++;
    if (line[p] !== '=' || line[p + 1] !== '"') return undefined;
    p += 2;
    let value = '';
    for (;;) {
      const c = line[p];
      if (c === undefined) return undefined;
      if (c === '"') break;
      if (c === '\\') {
        const n = line[p + 1];
        value += n === 'n' ? '\n' : n ?? '';
        p += 2;
        continue;
      }
      value += c;
      p++;
    }
    labels[key] = value;
    p++;
  }
}

/** Parses exposition text. */
export function parsePromText(text: string): PromText {
  const samples = new Map<string, PromSample[]>();
  const types = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (m !== null) types.set(m[1], m[2]);
      continue;
    }
    const nm = NAME.exec(line);
    if (nm === null) continue;
    const name = nm[0];
    let p = name.length;
    let labels: Record<string, string> = {};
    if (line[p] === '{') {
      const l = parseLabels(line, p);
      if (l === undefined) continue;
      labels = l.labels;
      p = l.end;
    }
    // What follows is the value, then an optional timestamp (and, in OpenMetrics, an exemplar).
    const value = parseValue(line.slice(p).trim().split(/\s+/)[0] ?? '');
    if (value === undefined) continue;
    let list = samples.get(name);
    if (list === undefined) samples.set(name, (list = []));
    list.push({ name, labels, value });
  }
  return { samples, types };
}

/** The sum of every sample of `name` whose labels include `where`; undefined when there is none. */
export function sumOf(text: PromText, name: string, where: Readonly<Record<string, string>> = {}): number | undefined {
  const list = text.samples.get(name);
  if (list === undefined) return undefined;
  let sum = 0;
  let found = false;
  for (const s of list) {
    if (!matches(s.labels, where) || Number.isNaN(s.value)) continue;
    sum += s.value;
    found = true;
  }
  return found ? sum : undefined;
}

/** Whether `labels` has every key of `where` with its value. */
export function matches(labels: Readonly<Record<string, string>>, where: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(where)) if (labels[k] !== v) return false;
  return true;
}
