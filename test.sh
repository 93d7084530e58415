#!/usr/bin/env bash
# The test command: installs what the tests need (PostgreSQL's and MariaDB's binaries, nginx-light, docker-compose; the tests start their own
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

# nginx for the multi-process topology test (the load balancer in front of the gateways, as with
# SILOS=N GATEWAYS=M ./run.sh); the test starts a private nginx on free ports.
have_nginx() { command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]]; }
if ! have_nginx; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "==> installing nginx-light (the multi-process test puts it in front of the gateways)"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get install -y -qq nginx-light || { apt-get update -qq && apt-get install -y -qq nginx-light; }; } >/dev/null || { echo "apt-get install nginx-light failed" >&2; exit 1; }
    service nginx stop >/dev/null 2>&1 || true
  else
    echo "nginx is missing: sudo apt-get install -y nginx-light" >&2
    exit 1
  fi
fi

# docker/compose.yml (the same topology in containers) must validate: Debian's docker-compose checks it without a
# Docker engine. The required secrets get placeholder values for the check.
if ! command -v docker-compose >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
  echo "==> installing docker-compose (to validate docker/compose.yml)"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -qq docker-compose || { apt-get update -qq && apt-get install -y -qq docker-compose; }; } >/dev/null 2>&1 || echo "apt-get install docker-compose failed" >&2
fi
compose_failed=0
if command -v docker-compose >/dev/null 2>&1; then
  echo "==> docker-compose -f docker/compose.yml config -q"
  if ! CONCOURSE_PASSWORD=x BROKER_PASSWORD=x DASHBOARD_SECRET=x OPERATOR_PASSWORD=x KEYRING_CERT=/dev/null \
      docker-compose -f docker/compose.yml --profile concourse config -q; then
    echo "docker/compose.yml does not validate" >&2
    compose_failed=1
  fi
else
  echo "docker-compose is missing: docker/compose.yml not validated (sudo apt-get install -y docker-compose)" >&2
  compose_failed=1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet test --project tests/Broker.Tests "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# dotnet test (Microsoft Testing Platform) ends with "succeeded: N", "failed: N", "skipped: N" lines.
count() { awk -v key="$1:" '$1 == key && $2 ~ /^[0-9]+$/ { n += $2 } END { print n + 0 }' "$log"; }
passed=$(count succeeded); failed=$(count failed); skipped=$(count skipped)
# The failed tests' names again, last: a failing run's tail is otherwise the test host's whole standard output.
if grep -q '^failed ' "$log"; then
  echo "==> failed tests"
  awk '/^failed / { n = 4 } n > 0 && !/^  from / { print; n-- }' "$log" | cut -c1-300 | head -150
fi
if [[ $status -ne 0 && $failed -eq 0 ]]; then failed=1; fi
if (( compose_failed )); then failed=$((failed + 1)); status=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
[[ $status -eq 0 && $failed -eq 0 ]]
