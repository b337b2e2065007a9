#!/usr/bin/env bash
# The whole suite: type check, lint, then every test on SQLite and, when PostgreSQL is installed (or
# COMEBACK_TEST_PG names a server), on PostgreSQL too. With CI set, a skipped test fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${COMEBACK_TEST_PG:-}" ] && ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 && [ -z "${COMEBACK_NO_PG:-}" ]; then
  exec scripts/with-postgres.sh "$0" "$@"
fi

npx tsc --noEmit
npx tsc -p web/tsconfig.json --noEmit
npx biome check .

mkdir -p test-artifacts
tap=test-artifacts/results.tap
files=("$@")
if [ ${#files[@]} -eq 0 ]; then mapfile -t files < <(find src test -name '*.test.ts' | sort); fi
status=0
node --import tsx --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  "${files[@]}" || status=$?

# Every skipped test and suite, with its reason, after every run; under CI a skip fails the run.
node scripts/skip-guard.mjs "$tap" || status=1
exit "$status"
