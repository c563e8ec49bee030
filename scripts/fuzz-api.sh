#!/usr/bin/env bash
# Fuzzes the HTTP API with schemathesis against its own /openapi.json: no answer may be a
# 5xx, every status, content type, header and body must match the document, and requests
# that break the document must be refused.
#
#   pip install schemathesis                  # once (4.x)
#   scripts/fuzz-api.sh [SECONDS]             # default 600: the time budget of the run
#
# Real ids: the script first writes a contract with users, an incident, changes, orders
# and an attachment, and hands their ids to schemathesis as dictionaries that path, query
# and body parameters draw from (most of the time; made-up values otherwise), so that
# operations on existing objects are reached, not only their 404s. The stateful phase
# chains operations through the links schemathesis infers from the answers.
#
# "positive_data_acceptance" (a schema-valid request must be accepted) is left out: the
# document cannot say every business rule (a tier upgrade must go up, a login must not be
# taken, an article must be in the catalogue, a cursor must be one the list handed out),
# and those refusals are the API working.
#
# SABLIER_FUZZ_PROFILE=dev uses a debug build (quicker to build, slower to answer);
# SABLIER_FUZZ_AS=customer|agent|admin picks whose token the requests carry (agent).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
port="${SABLIER_FUZZ_PORT:-18181}"
profile="${SABLIER_FUZZ_PROFILE:-release}"
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

if [ "$profile" = release ]; then
  cargo build --release --bin sablier
  binary=./target/release/sablier
else
  cargo build --bin sablier
  binary=./target/debug/sablier
fi
"$binary" --database-url "sqlite://$work/sablier.db" serve --listen "127.0.0.1:$port" \
  >"$work/out.txt" 2>"$work/err.txt" &
server=$!
for _ in $(seq 1 50); do
  grep -q listening "$work/out.txt" 2>/dev/null && break
  sleep 0.2
done
base="http://127.0.0.1:$port"
admin="$(sed -n 2p "$work/out.txt")"

# call METHOD PATH TOKEN [BODY]: the answer's body; fails on an error status.
call() {
  curl -fsS -X "$1" "$base$2" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
    ${4:+-d "$4"}
}
call POST /v1/contracts "$admin" '{"contract_id":"OCB0000124","name":"SI_Prod",
  "offer":"Flexible Engine","company":"ACME","tier":"Gold","referent":{"login":"jean.dupont",
  "email":"jean@acme.example","first_name":"Jean","last_name":"Dupont"}}' >/dev/null
customer="$(call POST /v1/tokens "$admin" '{"login":"jean.dupont","role":"customer"}' | jq -r .token)"
agent="$(call POST /v1/tokens "$admin" '{"login":"agent.martin","role":"agent"}' | jq -r .token)"
call POST /v1/contracts/OCB0000124/users "$customer" '{"login":"victor.visitor",
  "email":"victor@acme.example","first_name":"Victor","last_name":"Visiteur",
  "roles":{"contract":"visitor","dashboard":"visitor","services":"visitor","invoices":"visitor",
  "support":"visitor","users":"visitor"}}' >/dev/null
sha256="$(curl -fsS -X POST "$base/v1/attachments?contract_id=OCB0000124&name=logs.txt" \
  -H "Authorization: Bearer $customer" -H 'Content-Type: text/plain' --data-binary 'disk full' |
  jq -r .sha256)"
incidents=() changes=() orders=()
for priority in P1 P3; do
  incidents+=("$(call POST /v1/incidents "$customer" "{\"contract_id\":\"OCB0000124\",
    \"priority\":\"$priority\",\"title\":\"Disk full\",\"description\":\"No space left\"}" | jq -r .id)")
done
call POST "/v1/incidents/${incidents[0]}/start-intervention" "$agent" '{}' >/dev/null
changes+=("$(call POST /v1/changes "$customer" '{"contract_id":"OCB0000124","form":{"asset":"vm-1",
  "catalogue":"Catalogue de Changement Standard","category":"Quotas",
  "article":"Modifier mes quotas","lead_time":"standard"}}' | jq -r .id)")
changes+=("$(call POST /v1/changes "$customer" '{"contract_id":"OCB0000124","form":{"asset":"vm-2",
  "catalogue":"OCB - FE: Autres Demandes","category":"Autres Demandes",
  "article":"Faire une demande sur étude","lead_time":"standard"}}' | jq -r .id)")
changes+=("$(call POST /v1/changes "$customer" '{"contract_id":"OCB0000124","submit":false,
  "form":{"asset":"vm-3"}}' | jq -r .id)")
contact='"contact":{"civility":"mr","last_name":"Dupont","first_name":"Jean",
  "email":"jean@acme.example","landline":"+33 1 23 45 67 89"}'
orders+=("$(call POST /v1/orders "$customer" "{\"contract_id\":\"OCB0000124\",\"item\":\"pack-expert-4h\",$contact}" | jq -r .id)")
orders+=("$(call POST /v1/orders "$customer" "{\"contract_id\":\"OCB0000124\",\"item\":\"prestation-migration\",$contact}" | jq -r .id)")
token_id="$(call GET /v1/tokens "$admin" | jq -r '[.[] | select(.login == "victor.visitor")][0].token_id // empty')"

quoted() { printf '"%s", ' "$@"; }
cat >"$work/schemathesis.toml" <<EOF
[dictionaries.incident_ids]
values = [$(quoted "${incidents[@]}")]
[dictionaries.change_ids]
values = [$(quoted "${changes[@]}")]
[dictionaries.order_ids]
values = [$(quoted "${orders[@]}")]
[dictionaries.request_ids]
values = [$(quoted "${incidents[@]}" "${changes[@]}" "${orders[@]}")]
[dictionaries.contract_ids]
values = ["OCB0000124"]
[dictionaries.logins]
values = ["jean.dupont", "victor.visitor"]
[dictionaries.digests]
values = ["$sha256"]
[dictionaries.months]
values = ["$(date -u +%Y-%m)"]
[dictionaries.token_ids]
values = [$(quoted ${token_id:+"$token_id"}) "unknown"]

[parameters]
"path.incident_id" = { dictionary = "incident_ids", probability = 0.8 }
"path.change_id" = { dictionary = "change_ids", probability = 0.8 }
"path.order_id" = { dictionary = "order_ids", probability = 0.8 }
"path.request_id" = { dictionary = "request_ids", probability = 0.8 }
"path.contract_id" = { dictionary = "contract_ids", probability = 0.8 }
"query.contract_id" = { dictionary = "contract_ids", probability = 0.5 }
"body.contract_id" = { dictionary = "contract_ids", probability = 0.8 }
"path.login" = { dictionary = "logins", probability = 0.8 }
"body.on_behalf_of" = { dictionary = "logins", probability = 0.5 }
"path.sha256" = { dictionary = "digests", probability = 0.8 }
"body.form.attachments[*].sha256" = { dictionary = "digests", probability = 0.8 }
"path.month" = { dictionary = "months", probability = 0.5 }
"path.token_id" = { dictionary = "token_ids", probability = 0.5 }

[phases.stateful.inference]
algorithms = ["location-headers", "dependency-analysis"]
EOF

case "${SABLIER_FUZZ_AS:-agent}" in
  customer) caller="$customer" ;;
  admin) caller="$admin" ;;
  *) caller="$agent" ;;
esac
status=0
st --config-file "$work/schemathesis.toml" run "$base/openapi.json" \
  -H "Authorization: Bearer $caller" \
  --checks all --exclude-checks positive_data_acceptance \
  --max-time "$seconds" --report ndjson --report-dir "${SABLIER_FUZZ_REPORT_DIR:-$work/reports}" ||
  status=$?
if grep -q 'answered with a server error' "$work/err.txt"; then
  echo "the server logged 5xx answers:" >&2
  grep 'answered with a server error' "$work/err.txt" >&2
  status=1
fi
exit "$status"
