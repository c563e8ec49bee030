#!/usr/bin/env bash
# The floor under the projections benchmark's rebuild (issue 4's "30 % of the baseline"):
# what storing the views' rows costs by itself on this machine, beside the same read-and-
# decode baseline as scripts/bench-projections.sh, in the same run.
# A log of EVENTS events (default 1,000,000) is generated and its views rebuilt once; then,
# ROUNDS times (default 3), the baseline and the floor alternate. The floor writes every
# view row, read beforehand in key order, into emptied views in one transaction, and does
# nothing else: no reading of the log, no decoding, no view logic. No rebuild can be faster.
# SQLite: the bench's `floor` phase, into the rebuilt views' own freed pages (as a rebuild
# over earlier views) and into a copy of the log whose views were never filled (as a first
# rebuild, the file growing). PostgreSQL too when SABLIER_TEST_POSTGRES_URL names a server
# on this host: each view table dumped in key order, then truncated and loaded back with
# `COPY … FROM STDIN` (psql) in one transaction.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-1000000}
ROUNDS=${ROUNDS:-3}
bench() { cargo bench --quiet -p sablier-projections --bench projections -- "$@"; }
rate() { sed -n 's/.*= \([0-9]*\) events\/s.*/\1/p' | tail -1; }
ratio() { awk -v r="$1" -v b="$2" 'BEGIN { printf "%.1f", 100 * r / b }'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "== SQLite"
bench generate "sqlite://$dir/log.db" "$EVENTS"
cp "$dir/log.db" "$dir/never-filled.db"
bench rebuild "sqlite://$dir/log.db"
for round in $(seq "$ROUNDS"); do
  out=$(bench baseline "sqlite://$dir/log.db"); echo "$out"; base=$(rate <<<"$out")
  out=$(bench floor "sqlite://$dir/log.db"); echo "$out"; reused=$(rate <<<"$out")
  rm -f "$dir/into.db"*; cp "$dir/never-filled.db" "$dir/into.db"; sync
  out=$(bench floor "sqlite://$dir/log.db" "sqlite://$dir/into.db"); echo "$out"; grown=$(rate <<<"$out")
  echo "round $round: floor at $(ratio "$reused" "$base") % of the baseline (pages reused), $(ratio "$grown" "$base") % (file growing)"
done

if [ -n "${SABLIER_TEST_POSTGRES_URL:-}" ]; then
  name="sablier_floor_$$"
  psql "$SABLIER_TEST_POSTGRES_URL/postgres" -qc "CREATE DATABASE $name"
  trap 'psql "$SABLIER_TEST_POSTGRES_URL/postgres" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)"; rm -rf "$dir"' EXIT
  url="$SABLIER_TEST_POSTGRES_URL/$name?sslmode=disable"
  sql() { psql "$SABLIER_TEST_POSTGRES_URL/$name" -v ON_ERROR_STOP=1 -qAt "$@"; }
  echo "== PostgreSQL"
  bench generate "$url" "$EVENTS"
  bench rebuild "$url" | tail -1
  events=$(sql -c "SELECT min(position) FROM projection_checkpoints")
  tables=$(sql -c "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables
    WHERE schemaname = 'public' AND (tablename LIKE 'request_list%' OR tablename LIKE 'sla_clocks%'
    OR tablename LIKE 'billing_%' OR tablename LIKE 'directory_%' OR tablename = 'audit_trail')")
  load="$dir/load.sql"
  { echo "BEGIN;"; echo "TRUNCATE ${tables// /, };"
    for table in $tables; do
      key=$(sql -c "SELECT string_agg(a.attname, ', ' ORDER BY array_position(i.indkey, a.attnum))
        FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = '$table'::regclass AND i.indisprimary")
      sql -c "\\copy (SELECT * FROM $table ORDER BY ${key:-1}) TO '$dir/$table.tsv'"
      echo "\\copy $table FROM '$dir/$table.tsv'"
    done
    echo "COMMIT;"; } >"$load"
  for round in $(seq "$ROUNDS"); do
    out=$(bench baseline "$url"); echo "$out"; base=$(rate <<<"$out")
    sql -c "CHECKPOINT"
    started=$(date +%s.%N)
    sql -f "$load"
    seconds=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
    floor=$(awk -v n="$events" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')
    echo "floor (the views' rows loaded by COPY, nothing else): the $events events' views in $seconds s = $floor events/s"
    echo "round $round: floor at $(ratio "$floor" "$base") % of the baseline"
  done
fi
