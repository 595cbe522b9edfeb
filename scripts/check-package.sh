#!/usr/bin/env bash
# The production install a deployer makes: the packed tarball (with its built WebAssembly),
# installed with --omit=dev into an empty project, then the CLI and the library used from it.
# Needs a build (npm run build) and the npm registry for the runtime dependencies.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The build is already there: packing must not rebuild it (prepare would).
tarball="$(cd "$root" && npm pack --ignore-scripts --silent --pack-destination "$work" | tail -n 1)"
listing="$(tar -tzf "$work/$tarball")"
for must in package/LICENSE package/core-wasm/build/release.wasm package/dist/matcher/index.js package/dist/matcher/cli/main.js package/dist/console/index.html; do
  grep -qx "$must" <<<"$listing" || { echo "check-package: $must missing from the tarball"; exit 1; }
done
if grep -qE '^package/(bench|test|dist/bench|dist/test|reliability|fuzz)/|\.map$|fixtures/sample/(reads|truth)\.ndjson' <<<"$listing"; then
  echo "check-package: the tarball ships files it should not:"; grep -E '^package/(bench|test|dist/bench|dist/test|reliability|fuzz)/|\.map$|fixtures/sample/(reads|truth)\.ndjson' <<<"$listing" | head; exit 1
fi

mkdir "$work/app" && cd "$work/app"
npm init -y >/dev/null
npm install --omit=dev --no-audit --no-fund --loglevel=error "$work/$tarball" >/dev/null
[ ! -e node_modules/assemblyscript ] || { echo "check-package: a development dependency was installed"; exit 1; }

alerts="$(npx --no-install platesieve match --hotlist node_modules/platesieve/fixtures/sample/hotlist.csv --input "$root/fixtures/sample/reads.ndjson" 2>/dev/null | wc -l)"
[ "$alerts" -gt 0 ] || { echo "check-package: platesieve match gave no alerts"; exit 1; }
node --input-type=module -e '
  import { createMatcher } from "platesieve";
  const m = createMatcher({ entries: [{ plate: "ABC1234", state: "CA", list: "STOLEN_VEHICLE" }] });
  const hits = m.match({ plate: "ABC 1234", state: "CA" });
  if (hits.length !== 1 || hits[0].match !== "exact") { console.error("library import gave", hits); process.exit(1); }
'
echo "check-package: $tarball installed with --omit=dev: match gave $alerts alerts, the library matched"
