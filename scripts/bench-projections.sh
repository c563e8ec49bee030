#!/usr/bin/env bash
# The projections benchmark (issue 4): a generated log of EVENTS events (default 1,000,000),
# a full rebuild of every view beside a read-and-decode baseline on the same log, each in
# its own process with its peak memory; then the commit-to-visible lag under 500 commands/s.
# SQLite always; PostgreSQL too when SABLIER_TEST_POSTGRES_URL names a server, reached as a
# server on the same host would be, without TLS (`PG_OPTIONS`, default `sslmode=disable`;
# `PG_OPTIONS= ` leaves the client's default, `prefer`, which encrypts over the loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-1000000}
LAG_SECONDS=${LAG_SECONDS:-20}
bench() { cargo bench --quiet -p sablier-projections --bench projections -- "$@"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
url="sqlite://$dir/bench.db"
echo "== SQLite"
bench generate "$url" "$EVENTS"
bench baseline "$url"
bench rebuild "$url"
bench lag "$url" 500 "$LAG_SECONDS"

if [ -n "${SABLIER_TEST_POSTGRES_URL:-}" ]; then
  name="sablier_bench_$$"
  psql "$SABLIER_TEST_POSTGRES_URL/postgres" -qc "CREATE DATABASE $name"
  trap 'psql "$SABLIER_TEST_POSTGRES_URL/postgres" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)"; rm -rf "$dir"' EXIT
  options=${PG_OPTIONS-sslmode=disable}
  url="$SABLIER_TEST_POSTGRES_URL/$name${options:+?$options}"
  echo "== PostgreSQL"
  bench generate "$url" "$EVENTS"
  bench baseline "$url"
  bench rebuild "$url"
  bench lag "$url" 500 "$LAG_SECONDS"
fi
