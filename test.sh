#!/usr/bin/env bash
# The test command: installs what the tests need (PostgreSQL's binaries; the tests start their own private server),
# runs every test once and ends with one line "N passed, F failed, S skipped".
set -uo pipefail
cd "$(dirname "$0")"

have_postgres() { command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
if ! have_postgres; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "==> installing PostgreSQL (the tests start private servers from its binaries)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null || { echo "apt-get install postgresql failed" >&2; exit 1; }
  else
    echo "PostgreSQL binaries are missing: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
fi

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
dotnet test --project tests/Broker.Tests -- --report-trx --results-directory "$results" "$@"
status=$?

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [[ -f "$trx" ]] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed)))
  skipped=$((skipped + $(get notExecuted)))
done
if [[ $passed -eq 0 && $failed -eq 0 && $status -ne 0 ]]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
[[ $status -eq 0 && $failed -eq 0 ]]
