#!/usr/bin/env bash
# Mutation testing, one folder of src/ at a time, with StrykerJS (stryker.config.mjs): the score per
# folder is printed at the end and the reports are written to test-artifacts/mutation/.
#
# Usage: npm run test:mutation [-- [--sample N] [--seed S] [--full] models analytics …]
#   (default folders: every folder the suite must guard; default: a sample of 100 mutants per folder)
#
# A whole folder holds thousands of mutants and takes hours on a 2-core machine, so by default each
# folder's score is estimated from a seeded uniform sample of its mutants (scripts/mutation-sample.mjs),
# printed with its 95 % interval; --full runs every mutant. Re-running with the same seed draws the same
# mutants, so a score before and after new tests compares like with like.
set -uo pipefail
cd "$(dirname "$0")/.."
size=100
seed=20261201
full=0
folders=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sample) size="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --full) full=1; shift ;;
    -*) echo "unknown option $1 (--sample N, --seed S, --full)" >&2; exit 2 ;;
    *) folders+=("$1"); shift ;;
  esac
done
if [ ${#folders[@]} -eq 0 ]; then
  folders=(models analytics loyalty segments ingest)
  for f in campaigns recommend; do
    if [ -d "src/$f" ]; then folders+=("$f"); fi
  done
fi
# MUTATION_DIR (as in stryker.config.mjs and mutation-sample.mjs): where the plan and the reports go.
out="${MUTATION_DIR:-test-artifacts/mutation}"
mkdir -p "$out"
status=0
for folder in "${folders[@]}"; do
  echo "== mutation testing src/$folder" >&2
  if [ "$full" = 1 ]; then
    STRYKER_FOLDER="$folder" npx stryker run stryker.config.mjs || status=1
  else
    node scripts/mutation-sample.mjs plan "$folder" --size "$size" --seed "$seed" || { status=1; continue; }
    STRYKER_FOLDER="$folder" STRYKER_SAMPLE="$out/$folder.sample.json" \
      npx stryker run stryker.config.mjs || status=1
  fi
done
echo "== mutation scores" >&2
for folder in "${folders[@]}"; do
  if [ "$full" = 1 ]; then
    node -e '
      const r = require(process.argv[1]);
      let killed = 0, total = 0;
      for (const f of Object.values(r.files)) for (const m of f.mutants) {
        if (m.status === "Ignored" || m.status === "CompileError") continue;
        total++;
        if (m.status === "Killed" || m.status === "Timeout") killed++;
      }
      console.error(`src/${process.argv[2]}: ${killed}/${total} killed (${total ? (100 * killed / total).toFixed(1) : "n/a"} %)`);
    ' "$(cd "$out" && pwd)/$folder.json" "$folder" 2>&1 || echo "src/$folder: no report" >&2
  else
    node scripts/mutation-sample.mjs score "$folder" || status=1
  fi
done
exit "$status"
