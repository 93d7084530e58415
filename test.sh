#!/usr/bin/env bash
# The test command: installs what the tests need (PostgreSQL's and MariaDB's binaries; the tests start their own
# private servers),
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

# MariaDB for the MySQL provisioner tests (they start a private server from mariadbd on a random port). Debian's
# postinst may start the system service: stop it, nothing uses it.
have_mysqld() { command -v mariadbd >/dev/null 2>&1 || command -v mysqld >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd || -x /usr/sbin/mysqld ]]; }
if ! have_mysqld; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "==> installing MariaDB (the MySQL tests start private servers from its binaries)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq mariadb-server >/dev/null || { echo "apt-get install mariadb-server failed" >&2; exit 1; }
    service mariadb stop >/dev/null 2>&1 || true
  else
    echo "MariaDB binaries are missing: sudo apt-get install -y mariadb-server" >&2
    exit 1
  fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet test --project tests/Broker.Tests "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# dotnet test (Microsoft Testing Platform) ends with "succeeded: N", "failed: N", "skipped: N" lines.
count() { awk -v key="$1:" '$1 == key && $2 ~ /^[0-9]+$/ { n += $2 } END { print n + 0 }' "$log"; }
passed=$(count succeeded); failed=$(count failed); skipped=$(count skipped)
if [[ $status -ne 0 && $failed -eq 0 ]]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
[[ $status -eq 0 && $failed -eq 0 ]]
