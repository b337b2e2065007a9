#!/usr/bin/env bash
# Mutation testing, one folder of src/ at a time, with StrykerJS (stryker.config.mjs): the score per
# folder is printed at the end and the reports are written to test-artifacts/mutation/.
# Usage: npm run test:mutation [-- models analytics …]   (default: every folder the suite must guard)
set -uo pipefail
cd "$(dirname "$0")/.."
folders=("$@")
if [ ${#folders[@]} -eq 0 ]; then folders=(models analytics loyalty segments ingest); fi
for f in campaigns recommend; do
  if [ $# -eq 0 ] && [ -d "src/$f" ]; then folders+=("$f"); fi
done
mkdir -p test-artifacts/mutation
status=0
for folder in "${folders[@]}"; do
  echo "== mutation testing src/$folder" >&2
  STRYKER_FOLDER="$folder" npx stryker run stryker.config.mjs || status=1
done
echo "== mutation scores" >&2
for folder in "${folders[@]}"; do
  node -e '
    const r = require(process.argv[1]);
    let killed = 0, total = 0;
    for (const f of Object.values(r.files)) for (const m of f.mutants) {
      if (m.status === "Ignored" || m.status === "CompileError") continue;
      total++;
      if (m.status === "Killed" || m.status === "Timeout") killed++;
    }
    console.error(`src/${process.argv[2]}: ${killed}/${total} killed (${total ? (100 * killed / total).toFixed(1) : "n/a"} %)`);
  ' "$PWD/test-artifacts/mutation/$folder.json" "$folder" 2>&1 || echo "src/$folder: no report" >&2
done
exit "$status"
