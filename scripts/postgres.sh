#!/usr/bin/env bash
# A private PostgreSQL server for local runs (see run.sh), kept in one data directory:
#
#   scripts/postgres.sh start  DATA_DIR PORT   # initdb on first use, start if stopped, ensure database "ondemand"
#   scripts/postgres.sh stop   DATA_DIR        # clean shutdown; data is kept
#   scripts/postgres.sh status DATA_DIR        # pg_ctl status (exit 0 running, 3 stopped, 4 no cluster)
#
# It listens on 127.0.0.1:PORT only, with its unix socket inside DATA_DIR. The superuser is "postgres" with password
# $PGPASSWORD (default "postgres"); TCP logins need that password, the private socket is trusted. `start` is
# idempotent and prints nothing but errors. PostgreSQL refuses to run as root, so as root the server runs as the
# "postgres" system account (created by Debian's postgresql package) and DATA_DIR is handed to it. When that account
# cannot reach DATA_DIR (a checkout in root's 0700 home), the cluster is created in $RELOCATED_BASE
# (/var/lib/ondemand-orleans/postgres-XXXXXXXX) and DATA_DIR becomes a symlink to it: the symlink records where the
# data lives, so it survives restarts and a moved checkout; delete both to start afresh:
#   rm -rf "$(readlink -f DATA_DIR)" DATA_DIR
#
# Every start takes CONNECT on the databases "postgres", "template1" and "ondemand" away from PUBLIC (superusers keep
# it; login roles with CREATEDB and CREATEROLE - the emulated clusters' admin accounts - get it on "postgres", their
# admin database): a binding login connects to its own database only.
set -euo pipefail

readonly SUPERUSER=postgres
readonly SERVICE_ACCOUNT=postgres
readonly DATABASE=ondemand
RELOCATED_BASE=${ONDEMAND_PG_HOME:-/var/lib/ondemand-orleans}

usage() {
  echo "usage: $0 start DATA_DIR PORT | stop DATA_DIR | status DATA_DIR" >&2
  exit 2
}

fail() {
  echo "postgres.sh: $*" >&2
  exit 1
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# Directory holding initdb and pg_ctl: PATH first, then Debian's per-version directories, newest first.
find_bin_dir() {
  local dir candidates=()
  IFS=: read -r -a candidates <<<"$PATH"
  candidates+=($(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r))
  for dir in "${candidates[@]}"; do
    if [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

ensure_binaries() {
  if BIN_DIR=$(find_bin_dir); then
    return
  fi
  is_root || fail "PostgreSQL server binaries (initdb, pg_ctl) not found; install them: sudo apt-get install -y postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || fail "apt-get update failed"
  apt-get install -y -qq postgresql >/dev/null || fail "apt-get install postgresql failed"
  BIN_DIR=$(find_bin_dir) || fail "postgresql installed but initdb/pg_ctl still not found"
}

# Runs a PostgreSQL tool as the account that owns the cluster (from /: the caller's folder may be closed to it).
as_owner() {
  if is_root; then
    (cd / && runuser -u "$SERVICE_ACCOUNT" -- "$@")
  else
    "$@"
  fi
}

# As root, a new cluster goes where the service account can reach it (see the top of this file). $1: DATA_DIR as
# given (a symlink once relocated).
relocate_if_unreachable() {
  local given=$1 parent target
  is_root || return 0
  [[ -f $DATA_DIR/PG_VERSION ]] && return 0 # an existing cluster stays where it is
  parent=$(dirname "$DATA_DIR")
  mkdir -p "$parent"
  (cd / && runuser -u "$SERVICE_ACCOUNT" -- test -x "$parent") 2>/dev/null && return 0
  # Only an empty folder (left by an earlier attempt) may be replaced by the symlink.
  if [[ -L $given ]]; then
    rm -f "$given"
  elif [[ -d $given ]]; then
    rmdir "$given" 2>/dev/null || fail "$given is not empty, has no cluster, and the $SERVICE_ACCOUNT account cannot reach it"
  fi
  mkdir -p "$RELOCATED_BASE"
  chmod 755 "$RELOCATED_BASE"
  target=$(mktemp -d "$RELOCATED_BASE/postgres-XXXXXXXX")
  ln -s "$target" "$given"
  echo "postgres.sh: the $SERVICE_ACCOUNT account cannot reach $parent; PostgreSQL data lives in $target ($given links to it)" >&2
  DATA_DIR=$target
}

is_running() { as_owner "$BIN_DIR/pg_ctl" status -D "$DATA_DIR" >/dev/null 2>&1; }

init_cluster() {
  mkdir -p "$DATA_DIR"
  local password_file
  password_file=$(mktemp)
  chmod 600 "$password_file"
  printf '%s\n' "${PGPASSWORD:-postgres}" >"$password_file"
  if is_root; then
    chown -R "$SERVICE_ACCOUNT": "$DATA_DIR"
    chown "$SERVICE_ACCOUNT": "$password_file"
  fi

  if ! as_owner "$BIN_DIR/initdb" --pgdata "$DATA_DIR" --username "$SUPERUSER" --pwfile "$password_file" \
    --auth-local trust --auth-host scram-sha-256 --encoding UTF8 --locale C --no-instructions >/dev/null; then
    rm -f "$password_file"
    fail "initdb failed for $DATA_DIR"
  fi
  rm -f "$password_file"

  cat >>"$DATA_DIR/postgresql.conf" <<EOF

# OnDemand local server (scripts/postgres.sh): loopback only, socket inside the data directory.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DATA_DIR'
max_connections = 300
EOF
}

# Superuser psql over the private socket (trusted, so no password needed).
psql_admin() {
  local psql="$BIN_DIR/psql"
  [[ -x $psql ]] || psql=$(command -v psql) || fail "psql not found (it comes with the postgresql-client package)"
  "$psql" --host "$DATA_DIR" --port "$ACTUAL_PORT" --username "$SUPERUSER" --dbname postgres \
    --no-psqlrc --quiet --tuples-only --no-align -v ON_ERROR_STOP=1 "$@"
}

start() {
  local port=$1
  [[ $port =~ ^[0-9]+$ ]] || usage
  ensure_binaries

  relocate_if_unreachable "$GIVEN_DATA_DIR"
  [[ -f $DATA_DIR/PG_VERSION ]] || init_cluster

  if ! is_running; then
    # The port is given on the command line so that PORT, not the first run's value, decides.
    as_owner "$BIN_DIR/pg_ctl" start -D "$DATA_DIR" -l "$DATA_DIR/server.log" -w -t 60 -o "-p $port" >/dev/null || {
      tail -n 20 "$DATA_DIR/server.log" >&2 2>/dev/null || true
      fail "PostgreSQL did not start (log: $DATA_DIR/server.log)"
    }
  fi

  # Line 4 of postmaster.pid is the port the running server really listens on.
  ACTUAL_PORT=$(sed -n 4p "$DATA_DIR/postmaster.pid")
  [[ $ACTUAL_PORT == "$port" ]] || echo "postgres.sh: already running on port $ACTUAL_PORT, not $port" >&2

  # An explicit $PGPASSWORD wins over the one the cluster was created with. On stdin, not on psql's command line
  # (ps shows that); standard_conforming_strings is on, so only quotes need doubling.
  if [[ -n ${PGPASSWORD:-} ]]; then
    printf "ALTER ROLE %s PASSWORD '%s';\n" "$SUPERUSER" "${PGPASSWORD//\'/\'\'}" | psql_admin >/dev/null
  fi

  if [[ -z $(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'") ]]; then
    psql_admin -c "CREATE DATABASE $DATABASE" >/dev/null
  fi

  # Binding logins connect to their own database only (the provisioner revokes PUBLIC's CONNECT on each database it
  # creates): not to the maintenance databases, nor to the broker's. Repeated on every start, so a data folder made
  # before this rule gets it too, and the admin accounts of clusters deployed before it keep their admin database.
  psql_admin >/dev/null <<SQL
REVOKE CONNECT ON DATABASE postgres, template1, $DATABASE FROM PUBLIC;
DO \$\$
DECLARE admin text;
BEGIN
  FOR admin IN SELECT rolname FROM pg_roles WHERE rolcanlogin AND rolcreatedb AND rolcreaterole AND NOT rolsuper LOOP
    EXECUTE format('GRANT CONNECT ON DATABASE postgres TO %I', admin);
  END LOOP;
END
\$\$;
SQL
}

stop() {
  BIN_DIR=$(find_bin_dir) || return 0 # no server binaries, so nothing can be running
  [[ -f $DATA_DIR/PG_VERSION ]] || return 0
  is_running || return 0
  as_owner "$BIN_DIR/pg_ctl" stop -D "$DATA_DIR" -m fast -w >/dev/null
}

status() {
  BIN_DIR=$(find_bin_dir) || fail "PostgreSQL server binaries (initdb, pg_ctl) not found"
  as_owner "$BIN_DIR/pg_ctl" status -D "$DATA_DIR"
}

[[ $# -ge 2 ]] || usage
command=$1
GIVEN_DATA_DIR=$2
DATA_DIR=$(realpath -m "$2")

case $command in
  start) [[ $# -eq 3 ]] || usage; start "$3" ;;
  stop) [[ $# -eq 2 ]] || usage; stop ;;
  status) [[ $# -eq 2 ]] || usage; status ;;
  *) usage ;;
esac
