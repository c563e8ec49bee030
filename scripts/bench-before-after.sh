#!/usr/bin/env bash
# The commands bench and a full rebuild, before and after a change, alternated in one run:
#
#     scripts/bench-before-after.sh BEFORE_REV [AFTER_REV]
#
# Builds the release `commands` and `projections` benches of both revisions (AFTER_REV
# defaults to the working tree), each in a git worktree of its own under `target/`, then
# alternates them ROUNDS times (default 3): the commands bench (SQLite, and PostgreSQL when
# SABLIER_TEST_POSTGRES_URL names a server), then a rebuild of EVENTS events (default
# 1,000,000) on SQLite, each build on a log its own generator wrote (the schema may differ
# between revisions; the generator is seeded, so both logs hold the same events) beside its
# read-and-decode baseline. The machine's speed drifts between identical runs, so only
# figures of the same round are compared.
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=${1:?usage: scripts/bench-before-after.sh BEFORE_REV [AFTER_REV]}
AFTER=${2:-}
ROUNDS=${ROUNDS:-3}
EVENTS=${EVENTS:-1000000}
root=$(pwd)

# Builds the two benches at revision $1 (empty: the working tree); prints the checkout.
build() {
  local dir=$root
  if [ -n "$1" ]; then
    dir=$root/target/bench-at-$(git rev-parse --short "$1")
    [ -d "$dir" ] || git worktree add -q --detach "$dir" "$1"
  fi
  (cd "$dir" && cargo bench --quiet -p sablier-store --bench commands --no-run \
    && cargo bench --quiet -p sablier-projections --bench projections --no-run) >&2
  echo "$dir"
}

# The newest bench executable named $2 under checkout $1.
executable() { ls -t "$1"/target/release/deps/"$2"-* | grep -v '\.d$' | head -1; }

before=$(build "$BEFORE")
after=$(build "$AFTER")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "before: $BEFORE ($(git -C "$before" rev-parse --short HEAD)), after: ${AFTER:-the working tree} ($(git rev-parse --short HEAD))"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for side in before after; do
  checkout=${!side}
  "$(executable "$checkout" projections)" generate "sqlite://$dir/$side.db" "$EVENTS" | sed "s/^/$side /"
done
for round in $(seq "$ROUNDS"); do
  for side in before after; do
    checkout=${!side}
    echo "== round $round, $side, load $(cut -d' ' -f1-3 /proc/loadavg)"
    "$(executable "$checkout" commands)" --bench
    "$(executable "$checkout" projections)" baseline "sqlite://$dir/$side.db"
    "$(executable "$checkout" projections)" rebuild "sqlite://$dir/$side.db"
  done
done
