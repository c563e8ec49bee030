#!/usr/bin/env bash
# Fuzzes the HTTP API with schemathesis against its own /openapi.json: no answer may be a
# 5xx, every status, content type, header and body must match the document, and requests
# that break the document must be refused.
#
#   pip install schemathesis            # once (4.x)
#   scripts/fuzz-api.sh [MAX_EXAMPLES]  # default 100 per operation
#
# "positive_data_acceptance" (a schema-valid request must be accepted) is left out: the
# document cannot say every business rule (a tier upgrade must go up, a login must not be
# taken, an article must be in the catalogue, a cursor must be one the list handed out),
# and those refusals are the API working.
set -euo pipefail
cd "$(dirname "$0")/.."
max_examples="${1:-100}"
port="${SABLIER_FUZZ_PORT:-18181}"
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --bin sablier
./target/release/sablier --database-url "sqlite://$work/sablier.db" serve --listen "127.0.0.1:$port" \
  >"$work/out.txt" 2>"$work/err.txt" &
server=$!
for _ in $(seq 1 50); do
  grep -q listening "$work/out.txt" 2>/dev/null && break
  sleep 0.2
done
token="$(sed -n 2p "$work/out.txt")"
curl -fsS -X POST "http://127.0.0.1:$port/v1/contracts" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' \
  -d '{"contract_id":"OCB0000124","name":"SI_Prod","offer":"Flexible Engine","company":"ACME",
       "tier":"Gold","referent":{"login":"jean.dupont","email":"jean@acme.example",
       "first_name":"Jean","last_name":"Dupont"}}' >/dev/null

status=0
st run "http://127.0.0.1:$port/openapi.json" -H "Authorization: Bearer $token" \
  --checks all --exclude-checks positive_data_acceptance \
  --max-examples "$max_examples" || status=$?
if grep -q 'answered with a server error' "$work/err.txt"; then
  echo "the server logged 5xx answers:" >&2
  grep 'answered with a server error' "$work/err.txt" >&2
  status=1
fi
exit "$status"
