#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server on a loopback port, then stops the server by its pid.
# The command sees COMEBACK_TEST_PG (a superuser URL); tests create and drop their own databases in it.
# Usage: scripts/with-postgres.sh npm test
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "with-postgres: PostgreSQL is not installed (apt-get install -y postgresql)" >&2
  exit 1
fi
# A free loopback port, unless COMEBACK_PG_PORT names one: the kernel picks it, so another server on the
# machine (another run of the suite, a PostgreSQL already on 5432 or 55432) never collides with this one.
free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}
dir=$(mktemp -d /tmp/comeback-pg.XXXXXX)
run_as=()
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$dir"
  run_as=(runuser -u postgres --)
fi

"${run_as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
# The port is free when picked but could be taken before the server binds it: then try another.
started=
for _ in 1 2 3 4 5; do
  port=${COMEBACK_PG_PORT:-$(free_port)}
  if "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null; then
    started=1
    break
  fi
  [ -n "${COMEBACK_PG_PORT:-}" ] && break
done
[ -n "$started" ] || { cat "$dir/server.log" >&2; rm -rf "$dir"; exit 1; }
pid=$(head -n 1 "$dir/data/postmaster.pid")

stop() {
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -rf "$dir"
}
trap stop EXIT

echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (pid $pid)" >&2
export COMEBACK_TEST_PG="postgres://postgres@127.0.0.1:$port/postgres"
"$@"
