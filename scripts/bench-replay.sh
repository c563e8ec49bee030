#!/usr/bin/env bash
# The replay tools benchmark (issue 6): on a generated log of EVENTS events (default
# 1,000,000, written by the projections bench's `generate`), after a read-and-decode
# baseline, the release `sablier-replay` runs verify, export, import (into a new database),
# export again (compared byte for byte with the first), and, after `sablier project
# --once`, rebuild. Each is its own process, timed with its peak memory; events per
# second are EVENTS over the wall time.
# SQLite always; PostgreSQL too when SABLIER_TEST_POSTGRES_URL names a server.
# Run it on a quiet machine: nothing else building or benchmarking.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-1000000}
target=${CARGO_TARGET_DIR:-target}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB"
cargo build --release --quiet -p sablier-replay -p sablier-api
replay="$target/release/sablier-replay"
sablier="$target/release/sablier"
dir=$(mktemp -d)
databases=()
cleanup() {
  for name in "${databases[@]}"; do
    psql "$SABLIER_TEST_POSTGRES_URL/postgres" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)"
  done
  rm -rf "$dir"
}
trap cleanup EXIT

# measure LABEL COMMAND...: wall time, events/s and peak memory of one process.
measure() {
  local label=$1
  shift
  local started ended seconds
  started=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$dir/memory" "$@" > "$dir/out" 2> "$dir/err" || {
    echo "$label failed:"; cat "$dir/err"; tail -3 "$dir/out"; return 1
  }
  ended=$(date +%s.%N)
  seconds=$(echo "$ended - $started" | bc)
  printf '| %s | %s | %.1f | %.0f | %d MiB |\n' "$label" "$EVENTS" "$seconds" \
    "$(echo "$EVENTS / $seconds" | bc -l)" "$(( $(cat "$dir/memory") / 1024 ))"
}

# new_database NAME: sets `url` to a new, empty database of the backend under test.
new_database() {
  if [ "$backend" = sqlite ]; then
    url="sqlite://$dir/$1.db"
  else
    local name="sablier_bench_$1_$$"
    psql "$SABLIER_TEST_POSTGRES_URL/postgres" -qc "CREATE DATABASE $name"
    databases+=("$name")
    url="$SABLIER_TEST_POSTGRES_URL/$name"
  fi
}

run_backend() {
  echo "== $backend"
  local original copy
  new_database original
  original=$url
  new_database copy
  copy=$url
  cargo bench --quiet -p sablier-projections --bench projections -- generate "$original" "$EVENTS"
  # Baseline, same run: stream the log and decode every event on one thread, nothing else.
  cargo bench --quiet -p sablier-projections --bench projections -- baseline "$original"
  echo "| command | events | seconds | events/s | peak memory |"
  echo "|---|---|---|---|---|"
  measure verify "$replay" verify --database-url "$original"
  measure export "$replay" export --output "$dir/first.jsonl" --database-url "$original"
  measure import "$replay" import "$dir/first.jsonl" --database-url "$copy"
  measure "export of the copy" "$replay" export --output "$dir/second.jsonl" --database-url "$copy"
  cmp "$dir/first.jsonl" "$dir/second.jsonl" && echo "export → import → export: same bytes ($(stat -c %s "$dir/first.jsonl") bytes)"
  DATABASE_URL="$original" RUST_LOG=warn "$sablier" project --once
  measure rebuild "$replay" rebuild --database-url "$original"
  rm -f "$dir"/*.jsonl
  explain_long_request "$original"
}

# explain_long_request URL: an incident with 1,000 events (opened, intervention started,
# 499 pauses and resumes) written through the HTTP API, projected; then `explain` of it
# (every clock, interval by interval), timed 5 times, whole process.
explain_long_request() {
  local url=$1 port=18585
  local token
  token=$("$sablier" --database-url "$url" token create --login bench.agent --role agent 2>/dev/null)
  "$sablier" --database-url "$url" serve --listen "127.0.0.1:$port" >"$dir/serve.out" 2>"$dir/serve.err" &
  local server=$!
  for _ in $(seq 1 300); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
  local contract
  contract=$(curl -fsS "http://127.0.0.1:$port/v1/contracts" -H "Authorization: Bearer $token" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["contract_id"])')
  local incident
  incident=$(curl -fsS -X POST "http://127.0.0.1:$port/v1/incidents" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' \
    -d "{\"contract_id\": \"$contract\", \"priority\": \"P2\", \"title\": \"Long\", \"description\": \"1,000 events\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  # Started, then 499 pauses and resumes: 1,000 events, each moving GTD and GTR.
  post() {
    curl -fsS -o /dev/null -X POST "http://127.0.0.1:$port/v1/incidents/$incident/$1" \
      -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{}'
  }
  post start-intervention
  for _ in $(seq 1 499); do
    post await-customer
    post customer-response
  done
  kill "$server"; wait "$server" 2>/dev/null || true
  DATABASE_URL="$url" RUST_LOG=warn "$sablier" project --once
  for run in 1 2 3 4 5; do
    local started ended
    started=$(date +%s%N)
    "$replay" explain "$incident" --database-url "$url" >/dev/null
    ended=$(date +%s%N)
    echo "explain of an incident with 1,000 events, run $run: $(( (ended - started) / 1000000 )) ms (whole process)"
  done
}

backend=sqlite
run_backend
if [ -n "${SABLIER_TEST_POSTGRES_URL:-}" ]; then
  backend=postgres
  run_backend
fi
