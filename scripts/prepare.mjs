#!/usr/bin/env node
// `prepare` runs on `npm install` in a clone. A development install builds the WebAssembly
// core and the TypeScript. A production install of a clone (`npm install --omit=dev`) has no
// compiler: it keeps a build that is already there and otherwise says how to get one, instead
// of failing inside `asc`. The packed tarball ships its build and never runs this.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asc = join(root, 'node_modules', 'assemblyscript', 'package.json');
const built = existsSync(join(root, 'dist', 'matcher', 'index.js')) && existsSync(join(root, 'core-wasm', 'build', 'release.wasm'));

if (!existsSync(asc)) {
  if (built) {
    process.stderr.write('platesieve: no development dependencies; keeping the existing build (dist/, core-wasm/build/)\n');
    process.exit(0);
  }
  process.stderr.write(
    'platesieve: cannot build without the development dependencies (assemblyscript, typescript).\n' +
      '  For a production install, install the packed package instead: npm pack && npm install --omit=dev ./platesieve-<version>.tgz\n' +
      '  (see docs/operations.md "Installing"), or run npm install with the development dependencies.\n',
  );
  process.exit(1);
}
const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
