#!/usr/bin/env bash
# `npm install` / `npm ci` (the `prepare` script): build the CLI (dist/), the dashboard and the storefront snippet (web/dist/)
# unless they are already newer than every file they are built from. `npx comeback` inside the clone
# runs `prepare` again before its first use; with nothing changed it costs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

# stale STAMP SOURCES…: the stamp is missing, or a source file is newer than it.
stale() {
  local stamp=$1
  shift
  [ ! -e "$stamp" ] || [ -n "$(find "$@" -newer "$stamp" -type f -print -quit 2>/dev/null)" ]
}

if stale dist/.built src tsconfig.json tsconfig.build.json package.json package-lock.json; then
  rm -f dist/.built
  npx tsc -p tsconfig.build.json
  touch dist/.built
fi
if stale web/dist/.built web/src web/snippet web/index.html web/vite.config.ts web/tsconfig.json src/api package.json package-lock.json; then
  # The dashboard, then the storefront snippet (web/dist/snippet/comeback.js) beside it.
  npx vite build --config web/vite.config.ts
  npx vite build --config web/snippet/vite.config.ts
  touch web/dist/.built
fi
