#!/usr/bin/env bash
# The projections benchmark (issue 4): a generated log of EVENTS events (default 1,000,000),
# a full rebuild of every view beside a read-and-decode baseline on the same log, each in
# its own process with its peak memory; then the commit-to-visible lag under 500 commands/s.
# The baseline and the rebuild alternate ROUNDS times (default 3; each rebuild resets the
# views first) and each round's ratio is printed, then the median: the machine's speed
# drifts by a third between identical runs, so one pair decides nothing.
# SQLite always; PostgreSQL too when SABLIER_TEST_POSTGRES_URL names a server, reached as a
# server on the same host would be, without TLS (`PG_OPTIONS`, default `sslmode=disable`;
# `PG_OPTIONS= ` leaves the client's default, `prefer`, which encrypts over the loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-1000000}
LAG_SECONDS=${LAG_SECONDS:-20}
ROUNDS=${ROUNDS:-3}
bench() { cargo bench --quiet -p sablier-projections --bench projections -- "$@"; }

# The events/s figure of a phase's last line (`… = 104713 events/s, …`).
rate() { sed -n 's/.*= \([0-9]*\) events\/s.*/\1/p' | tail -1; }

# ROUNDS of baseline then rebuild on $1; each round's ratio, then the median.
rounds() {
  local ratios=()
  for round in $(seq "$ROUNDS"); do
    local out base rebuilt
    out=$(bench baseline "$1")
    echo "$out"
    base=$(rate <<<"$out")
    out=$(bench rebuild "$1")
    echo "$out"
    rebuilt=$(rate <<<"$out")
    ratios+=("$(awk -v r="$rebuilt" -v b="$base" 'BEGIN { printf "%.1f", 100 * r / b }')")
    echo "round $round: rebuild at ${ratios[-1]} % of the baseline"
  done
  printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "median of %d rounds: rebuild at %.1f %% of the baseline\n", NR, m }'
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
url="sqlite://$dir/bench.db"
echo "== SQLite"
bench generate "$url" "$EVENTS"
rounds "$url"
bench lag "$url" 500 "$LAG_SECONDS"

if [ -n "${SABLIER_TEST_POSTGRES_URL:-}" ]; then
  name="sablier_bench_$$"
  psql "$SABLIER_TEST_POSTGRES_URL/postgres" -qc "CREATE DATABASE $name"
  trap 'psql "$SABLIER_TEST_POSTGRES_URL/postgres" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)"; rm -rf "$dir"' EXIT
  options=${PG_OPTIONS-sslmode=disable}
  url="$SABLIER_TEST_POSTGRES_URL/$name${options:+?$options}"
  echo "== PostgreSQL"
  bench generate "$url" "$EVENTS"
  rounds "$url"
  bench lag "$url" 500 "$LAG_SECONDS"
fi
