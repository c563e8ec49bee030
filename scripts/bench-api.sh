#!/usr/bin/env bash
# The HTTP API benchmark (issue 5) with a real HTTP load generator (oha):
#   1. a generated log with at least INCIDENTS incidents (default 100,000), projected;
#   2. `sablier serve` (release) on it;
#   3. the same run measures, one after the other, for DURATION seconds each (default 20):
#      - baseline: GET /healthz, a trivial route of the same server;
#      - read:     GET /v1/incidents/{id} with live timers, ids drawn from 10,000 incidents;
#      - open:     POST /v1/incidents (a new incident each time).
# SQLite, and PostgreSQL when SABLIER_TEST_POSTGRES_URL names a server (`BACKENDS` picks:
# "sqlite postgres" by default). PostgreSQL is reached as a server on the same host would
# be, without TLS (`PG_OPTIONS`, default `sslmode=disable`; `PG_OPTIONS= ` leaves the
# client's default, `prefer`, which encrypts even over the loopback interface).
#
#   cargo install oha          # once
#   scripts/bench-api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
INCIDENTS=${INCIDENTS:-100000}
SECONDS_EACH=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-18282}
# The generator writes about 8.6 events per incident among its other requests (measured:
# 1,200,000 events held 139,636 incidents).
EVENTS=${EVENTS:-$((INCIDENTS * 9))}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB"
cargo build --release --quiet --bin sablier
dir=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

# Prints "rps, p50, p99, success" from oha's JSON report.
cat >"$dir/summary.py" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
summary, latency = report["summary"], report["latencyPercentiles"]
statuses = report.get("statusCodeDistribution") or {}
if latency.get("p50") is None:
    print("no answer: errors %s" % report.get("errorDistribution"))
else:
    print("%.0f req/s, p50 %.2f ms, p99 %.2f ms, statuses %s" % (
        summary["requestsPerSec"], latency["p50"] * 1000, latency["p99"] * 1000,
        ", ".join("%s: %s" % item for item in sorted(statuses.items()))))
PY
summary() { python3 "$dir/summary.py" "$1"; }

run() {
  local url=$1 sql=$2
  echo "generating about $EVENTS events"
  cargo bench --quiet -p sablier-projections --bench projections -- generate "$url" "$EVENTS" >/dev/null
  ./target/release/sablier --database-url "$url" project --once 2>"$dir/project.err" ||
    { tail -5 "$dir/project.err"; return 1; }
  local incidents
  incidents=$($sql "SELECT COUNT(*) FROM request_list WHERE kind = 'incident'")
  echo "incidents in the database: $incidents"
  $sql "SELECT request_id FROM request_list WHERE kind = 'incident' ORDER BY request_id LIMIT 10000" |
    sed "s|^|http://127.0.0.1:$PORT/v1/incidents/|" >"$dir/urls.txt"
  local contract
  contract=$($sql "SELECT contract_id FROM directory_contracts ORDER BY contract_id LIMIT 1")

  local token
  token=$(./target/release/sablier --database-url "$url" token create --login bench.agent --role agent)
  # One token drives the whole load: lift its request budget (300/s by default).
  SABLIER_REQUESTS_PER_TOKEN_PER_SECOND=100000000 \
    ./target/release/sablier --database-url "$url" serve --listen "127.0.0.1:$PORT" >"$dir/serve.out" 2>"$dir/serve.err" &
  server=$!
  for _ in $(seq 1 300); do grep -q listening "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
  grep -q listening "$dir/serve.out" || { echo "the server did not start:"; tail -5 "$dir/serve.err"; return 1; }

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
  echo "server errors logged: $(grep -c 'answered with a server error' "$dir/serve.err" || true)"
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
  PORT=$((PORT + 1))
}

BACKENDS=${BACKENDS:-sqlite postgres}
if [[ " $BACKENDS " == *" sqlite "* ]]; then
  echo "== SQLite"
  run "sqlite://$dir/bench.db" "sqlite3 $dir/bench.db"
fi

if [[ " $BACKENDS " == *" postgres "* ]] && [ -n "${SABLIER_TEST_POSTGRES_URL:-}" ]; then
  name="sablier_bench_api_$$"
  psql "$SABLIER_TEST_POSTGRES_URL/postgres" -qc "CREATE DATABASE $name"
  trap 'cleanup; psql "$SABLIER_TEST_POSTGRES_URL/postgres" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)"' EXIT
  echo "== PostgreSQL"
  options=${PG_OPTIONS-sslmode=disable}
  url="$SABLIER_TEST_POSTGRES_URL/$name${options:+?$options}"
  echo "database URL: $url"
  run "$url" "psql -At $url -c"
fi
