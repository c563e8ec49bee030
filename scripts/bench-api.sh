#!/usr/bin/env bash
# The HTTP API benchmark (issue 5) with a real HTTP load generator (oha):
#   1. a generated log with at least INCIDENTS incidents (default 100,000), projected;
#   2. `sablier serve` (release) on it;
#   3. the same run measures, one after the other, for SECONDS each (default 20):
#      - baseline: GET /healthz, a trivial route of the same server;
#      - read:     GET /v1/incidents/{id} with live timers, ids drawn from 10,000 incidents;
#      - open:     POST /v1/incidents (a new incident each time).
# SQLite always; PostgreSQL too when SABLIER_TEST_POSTGRES_URL names a server.
#
#   cargo install oha          # once
#   scripts/bench-api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
INCIDENTS=${INCIDENTS:-100000}
SECONDS_EACH=${SECONDS:-20}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-18282}
# The generator writes ~12 events per incident among its other requests (measured).
EVENTS=${EVENTS:-$((INCIDENTS * 12))}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB"
cargo build --release --quiet --bin sablier
dir=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

# Prints "rps p50_ms p99_ms success_rate" from oha's JSON report.
summary() {
  python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
s, p = r["summary"], r["latencyPercentiles"]
print(f"{s[\"requestsPerSec\"]:.0f} req/s, p50 {p[\"p50\"]*1000:.2f} ms, p99 {p[\"p99\"]*1000:.2f} ms, success {s[\"successRate\"]*100:.1f}%")
' "$1"
}

run() {
  local url=$1 sql=$2
  echo "generating about $EVENTS events"
  cargo bench --quiet -p sablier-projections --bench projections -- generate "$url" "$EVENTS" >/dev/null
  ./target/release/sablier --database-url "$url" project --once 2>/dev/null
  local incidents
  incidents=$($sql "SELECT COUNT(*) FROM request_list WHERE kind = 'incident'")
  echo "incidents in the database: $incidents"
  $sql "SELECT request_id FROM request_list WHERE kind = 'incident' ORDER BY request_id LIMIT 10000" |
    sed "s|^|http://127.0.0.1:$PORT/v1/incidents/|" >"$dir/urls.txt"
  local contract
  contract=$($sql "SELECT contract_id FROM directory_contracts ORDER BY contract_id LIMIT 1")

  ./target/release/sablier --database-url "$url" serve --listen "127.0.0.1:$PORT" >"$dir/serve.out" 2>"$dir/serve.err" &
  server=$!
  for _ in $(seq 1 100); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
  local token
  token=$(./target/release/sablier --database-url "$url" token create --login bench.agent --role agent 2>/dev/null)

  oha -z "${SECONDS_EACH}s" -c "$CONNECTIONS" --no-tui --output-format json -o "$dir/baseline.json" \
    "http://127.0.0.1:$PORT/healthz"
  echo "baseline GET /healthz:            $(summary "$dir/baseline.json")"
  oha -z "${SECONDS_EACH}s" -c "$CONNECTIONS" --no-tui --output-format json -o "$dir/read.json" \
    -H "Authorization: Bearer $token" --urls-from-file "$dir/urls.txt"
  echo "read GET /v1/incidents/{id}:      $(summary "$dir/read.json")"
  oha -z "${SECONDS_EACH}s" -c "$CONNECTIONS" --no-tui --output-format json -o "$dir/open.json" \
    -H "Authorization: Bearer $token" -m POST -T application/json \
    -d "{\"contract_id\": \"$contract\", \"priority\": \"P2\", \"title\": \"Load\", \"description\": \"Opened by the benchmark\"}" \
    "http://127.0.0.1:$PORT/v1/incidents"
  echo "open POST /v1/incidents:          $(summary "$dir/open.json")"
  grep -c 'answered with a server error' "$dir/serve.err" | sed 's/^/server errors logged: /' || true
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

echo "== SQLite"
run "sqlite://$dir/bench.db" "sqlite3 $dir/bench.db"

if [ -n "${SABLIER_TEST_POSTGRES_URL:-}" ]; then
  name="sablier_bench_api_$$"
  psql "$SABLIER_TEST_POSTGRES_URL/postgres" -qc "CREATE DATABASE $name"
  trap 'cleanup; psql "$SABLIER_TEST_POSTGRES_URL/postgres" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)"' EXIT
  echo "== PostgreSQL"
  run "$SABLIER_TEST_POSTGRES_URL/$name" "psql -At $SABLIER_TEST_POSTGRES_URL/$name -c"
fi
