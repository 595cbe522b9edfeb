/**
 * Where the service under test runs from: the repository's dist/ or, after
 * {@link freezeBuild}, a private copy of it, so that a run measures one build even while the
 * tree is rebuilt under it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Repository root (this file runs from dist/reliability/). */
export const ROOT = path.resolve(here, '../..');
/** The build the service and `platesieve match` run from (see {@link freezeBuild}). */
let serviceRoot = ROOT;
/** Path of the CLI (`dist/matcher/cli/main.js`) of the build the service runs from. */
export const cliPath = (): string => path.join(serviceRoot, 'dist/matcher/cli/main.js');
/** The fault-injection preload (reliability/fault-preload.ts), always from the repository's dist/. */
export const PRELOAD = path.join(ROOT, 'dist/reliability/fault-preload.js');

/**
 * Copies the service's build (dist/matcher and dist/fixtures, the WebAssembly core, package.json; node_modules
 * linked) into `dir` and runs every service process and `platesieve match` from there: a run
 * measures one build even while the tree is rebuilt under it. Returns a fingerprint of the
 * build (sha256 of its files, 12 hex digits).
 */
export function freezeBuild(dir: string): string {
  const hash = createHash('sha256');
  const copy = (from: string, to: string): void => {
    const st = statSync(from);
    if (st.isDirectory()) {
      mkdirSync(to, { recursive: true });
      for (const name of readdirSync(from).sort()) copy(path.join(from, name), path.join(to, name));
    } else if (!from.endsWith('.map') && !from.endsWith('.d.ts')) {
      const bytes = readFileSync(from);
      hash.update(path.relative(ROOT, from)).update(bytes);
      mkdirSync(path.dirname(to), { recursive: true });
      writeFileSync(to, bytes);
    }
  };
  copy(path.join(ROOT, 'dist/matcher'), path.join(dir, 'dist/matcher'));
  // The CLI's demo command imports the generator.
  copy(path.join(ROOT, 'dist/fixtures'), path.join(dir, 'dist/fixtures'));
  copy(path.join(ROOT, 'core-wasm/build/release.wasm'), path.join(dir, 'core-wasm/build/release.wasm'));
  copy(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  serviceRoot = dir;
  return hash.digest('hex').slice(0, 12);
}
