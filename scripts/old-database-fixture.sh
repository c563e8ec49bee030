#!/usr/bin/env bash
# Writes tests/fixtures/before-ranges.{sqlite,pg.sql}: databases written by the server as
# it stood before values were bounded at the edge (commit 7f1757b), holding what that
# server acknowledged and later versions refuse: an order quoted, accepted and completed
# at 2^63 cents, and an expert-time entry dated -0001-12-31. The upgrade tests open them
# with the current binary (tests/tests/blackbox/http/upgrade.rs).
#
#   scripts/old-database-fixture.sh            # builds 7f1757b in a scratch worktree
#   OLD_SABLIER=path/to/sablier scripts/old-database-fixture.sh
#
# Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust) for the second fixture.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
trap 'pkill -TERM -f "sablier serve --listen 127.0.0.1:18080" || true; rm -rf "$work"' EXIT

if [ -z "${OLD_SABLIER:-}" ]; then
  git worktree add --detach "$work/src" 7f1757b >/dev/null
  (cd "$work/src" && cargo build --release --bin sablier)
  OLD_SABLIER="$work/src/target/release/sablier"
fi

# Writes the story on $DATABASE_URL with the old server.
story() {
  local contract
  "$OLD_SABLIER" demo >"$work/demo.jsonl"
  contract=$(head -1 "$work/demo.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["aggregate_id"])')
  local agent customer
  agent=$("$OLD_SABLIER" token create --login ops.agent --role agent | tail -1)
  customer=$("$OLD_SABLIER" token create --login jean.dupont --role customer | tail -1)
  "$OLD_SABLIER" serve --listen 127.0.0.1:18080 >"$work/serve.log" 2>&1 &
  for _ in $(seq 1 50); do curl -sf 127.0.0.1:18080/healthz >/dev/null && break; sleep 0.2; done
  post() {
    curl -sf -X POST "127.0.0.1:18080$1" -H "Authorization: Bearer $2" \
      -H 'Content-Type: application/json' -d "$3"
  }
  local order
  order=$(post /v1/orders "$customer" "{\"contract_id\":\"$contract\",\"item\":\"prestation-migration\",\"contact\":{\"civility\":\"mr\",\"last_name\":\"Dupont\",\"first_name\":\"Jean\",\"email\":\"jean.dupont@demo.example\",\"mobile\":\"+33 6 12 34 56 78\"}}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  post "/v1/orders/$order/quote" "$agent" '{"amount_cents": 9223372036854775808, "note": "Migration of 40 VMs"}' >/dev/null
  post "/v1/orders/$order/accept-quote" "$customer" '{}' >/dev/null
  post "/v1/orders/$order/start" "$agent" '{}' >/dev/null
  post "/v1/orders/$order/complete" "$agent" '{"note": null}' >/dev/null
  post "/v1/contracts/$contract/expert-time" "$agent" '{"performed_on": "-0001-12-31", "minutes": 90, "note": "Audit"}' >/dev/null
  sleep 2
  pkill -TERM -f "sablier serve --listen 127.0.0.1:18080"
  wait || true
}

rm -f "$work/old.db"
DATABASE_URL="sqlite://$work/old.db" story
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('pragma wal_checkpoint(TRUNCATE)'); c.execute('vacuum'); c.close()" "$work/old.db"
cp "$work/old.db" tests/fixtures/before-ranges.sqlite

psql -h 127.0.0.1 -U postgres -d postgres -qc 'DROP DATABASE IF EXISTS sablier_before_ranges' -c 'CREATE DATABASE sablier_before_ranges'
DATABASE_URL=postgres://postgres@127.0.0.1:5432/sablier_before_ranges?sslmode=disable story
pg_dump -h 127.0.0.1 -U postgres --no-owner --no-privileges --no-comments sablier_before_ranges >tests/fixtures/before-ranges.pg.sql
psql -h 127.0.0.1 -U postgres -d postgres -qc 'DROP DATABASE sablier_before_ranges'
echo "wrote tests/fixtures/before-ranges.sqlite and tests/fixtures/before-ranges.pg.sql from $repo"
