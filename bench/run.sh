#!/usr/bin/env bash
# bench/run.sh - the project's performance figures in ONE run, each against a baseline measured in the same run.
#
# Starts its own private stack on 127.0.0.1 (PostgreSQL, sql/, Concourse API emulator with --build-seconds 0, one
# silo, one gateway, a bare Kestrel app), measures, prints a markdown table (also written to bench/results/latest.md)
# and stops everything it started - on success, failure, Ctrl-C or its own time limit. See bench/README.md.
#
# Knobs (environment): ROUNDS=5 DURATION=8 (seconds per wrk round) WARMUP=3 CONNECTIONS=64 THREADS=2
#   COUNT=1000 (clusters per provisioning round) PROV_ROUNDS=3 PROV_WARMUP=2000 (clusters, not measured) CONCURRENCY=64
#   POLL_INTERVAL=00:00:00.2 (the silo's Lifecycle__PollInterval)
#   REPLAY_PASSES=5 DB_ENGINE=mysql|postgresql DB_CLUSTERS (1000; postgresql 20) DB_PER_CLUSTER (10; postgresql 5)
#   DB_PROBE_SECONDS=20 CREDHUB=1 (0: no CredHub, to see its cost) MAX_SECONDS=900 (hard limit; everything is stopped then) SKIP_BUILD=0
#   SCALE_OUT=1: afterwards the multi-node scenarios of bench/scale-out.sh (failover, rolling restart, chaos, load
#   balancer overhead, memory per activation; its own knobs, see there)
#   PG_STATEMENTS=1: load pg_stat_statements (docs/performance.md) and write the provisioning rounds' statements by PostgreSQL time (plan +
#   execute, calls, rows) to bench/results/latest-statements.txt
#   SOURCE=<commit> (e.g. HEAD): benchmark that commit instead of the working tree - it is exported read-only with
#   `git archive` to bench/.work/src (the current bench/ tools are laid over it), so edits in progress do not matter.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/bench/.work
RUN=$WORK/run
ART=$WORK/artifacts
RESULTS=$ROOT/bench/results

# Ports distinct from run.sh's defaults (8080/8081/11111/30000/54329/8090).
GATEWAY_PORT=18080 SILO_HTTP_PORT=18081 BARE_PORT=18082 EMULATOR_PORT=18090
SILO_PORT=21111 SILO_GATEWAY_PORT=31000 PG_PORT=55432
ROUNDS=${ROUNDS:-5} DURATION=${DURATION:-8} WARMUP=${WARMUP:-3} CONNECTIONS=${CONNECTIONS:-64} THREADS=${THREADS:-2}
COUNT=${COUNT:-1000} PROV_ROUNDS=${PROV_ROUNDS:-3} PROV_WARMUP=${PROV_WARMUP:-2000} CONCURRENCY=${CONCURRENCY:-64} POLL_INTERVAL=${POLL_INTERVAL:-00:00:00.2}
DB_ENGINE=${DB_ENGINE:-mysql} DB_PROBE_SECONDS=${DB_PROBE_SECONDS:-20}
REPLAY_PASSES=${REPLAY_PASSES:-5} MAX_SECONDS=${MAX_SECONDS:-900} SKIP_BUILD=${SKIP_BUILD:-0} SOURCE=${SOURCE:-}

SERVICE_ID=811b8485-aa65-4bea-b4d0-f10f32833187
CLUSTER_PLAN_ID=38ee5955-c98a-402e-bb40-34f509bdc233
LASTOP_PREFIX=bench-lastop   # the one instance of scenario 2: id bench-lastop-0, instance name bench-lastop-c0
# The databases scenario: MySQL databases (the project's target) in the mysql clusters of the provisioning rounds, or
# PostgreSQL databases - the engine a local stack can really create (every emulated cluster's admin endpoint is the
# bench's PostgreSQL; each database is a real CREATE DATABASE, hence the small default).
case $DB_ENGINE in
  mysql)
    DB_SERVICE_ID=$SERVICE_ID DB_CLUSTER_PLAN_ID=$CLUSTER_PLAN_ID DATABASE_PLAN_ID=da90a5b6-1ddd-4d7e-9b65-2da8c8ce37f6
    DB_CLUSTERS=${DB_CLUSTERS:-1000} DB_PER_CLUSTER=${DB_PER_CLUSTER:-10} ;;
  postgresql)
    DB_SERVICE_ID=248f46ec-cca0-40ce-8154-b6b692c22695 DB_CLUSTER_PLAN_ID=ae92697f-ef7c-4e2e-ae41-6213a1c14ab7 DATABASE_PLAN_ID=2c1968c4-f28f-4250-974b-93ec0d775ac4
    DB_CLUSTERS=${DB_CLUSTERS:-20} DB_PER_CLUSTER=${DB_PER_CLUSTER:-5} ;;
  *) echo "DB_ENGINE must be mysql or postgresql" >&2; exit 2 ;;
esac

STARTED_AT=$(date +%s)
log() { printf '\033[1m[bench %s]\033[0m %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------------- tools
need_apt() { # need_apt COMMAND PACKAGE: install a Debian package when its command is missing
  command -v "$1" >/dev/null 2>&1 && return
  [[ $(id -u) -eq 0 ]] || die "$1 is missing: sudo apt-get install -y $2"
  log "installing $2"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "$2" >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq "$2" >/dev/null; } || die "apt-get install $2 failed"
}
command -v dotnet >/dev/null || die "dotnet (the .NET 10 SDK) is required"
need_apt wrk wrk
need_apt curl curl
need_apt ss iproute2
# PostgreSQL's binaries are installed by scripts/postgres.sh itself when missing.

# ---------------------------------------------------------------------------------------------------- processes
mkdir -p "$WORK" "$RESULTS"
PIDFILE=$WORK/pids
LOCK=$WORK/.lock
declare -A PID=()
WATCHDOG=""

stop_pid() { # stop_pid PID: TERM, wait up to 10 s, then KILL
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - INT TERM EXIT
  log "stopping everything this run started"
  local name
  for name in bare gateway silo emulator; do
    [[ -n ${PID[$name]:-} ]] && stop_pid "${PID[$name]}"
  done
  "$ROOT/scripts/postgres.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
  rm -f "$PIDFILE"
  [[ $(cat "$LOCK" 2>/dev/null) == "$$" ]] && rm -f "$LOCK"
  if [[ -n $WATCHDOG ]]; then kill -TERM "$WATCHDOG" 2>/dev/null || true; wait "$WATCHDOG" 2>/dev/null || true; fi
  exit "$status"
}
trap cleanup EXIT
trap 'log "interrupted (SIGINT)"; exit 130' INT
trap 'log "terminated (SIGTERM)"; exit 143' TERM

# One run at a time on this machine: a second one would share the ports and wipe this one's PostgreSQL and outputs.
take_lock() { ( set -o noclobber; echo "$$" >"$LOCK" ) 2>/dev/null; }
if ! take_lock; then
  holder=$(cat "$LOCK" 2>/dev/null || true)
  if [[ -n $holder && -r /proc/$holder/cmdline ]] && tr '\0' ' ' <"/proc/$holder/cmdline" | grep -q 'run\.sh'; then
    trap - EXIT
    die "another bench/run.sh is running (pid $holder); wait for it or stop it"
  fi
  rm -f "$LOCK"
  take_lock || { trap - EXIT; die "could not take $LOCK"; }
fi

# A previous run killed with SIGKILL may have left its processes: stop them (only ours: their command line names $WORK).
if [[ -f $PIDFILE ]]; then
  while read -r stale; do
    [[ -r /proc/$stale/cmdline ]] && tr '\0' ' ' <"/proc/$stale/cmdline" | grep -q "$WORK" && { log "stopping stale process $stale"; stop_pid "$stale"; }
  done <"$PIDFILE"
  rm -f "$PIDFILE"
fi
"$ROOT/scripts/postgres.sh" stop "$WORK/pg" >/dev/null 2>&1 || true

# The hard time limit: the watchdog signals this script, whose trap stops everything.
( trap 'kill "$s" 2>/dev/null; exit 0' TERM; sleep "$MAX_SECONDS" & s=$!; wait "$s"; echo "bench: time limit of ${MAX_SECONDS}s reached" >&2; kill -TERM $$ ) &
WATCHDOG=$!

for port in $GATEWAY_PORT $SILO_HTTP_PORT $BARE_PORT $EMULATOR_PORT $SILO_PORT $SILO_GATEWAY_PORT $PG_PORT; do
  [[ -z $(ss -Hltn "sport = :$port") ]] || die "port $port on 127.0.0.1 is in use; stop whatever holds it (ss -ltnp 'sport = :$port')"
done

start() { # start NAME LOGFILE COMMAND...: in the background, in the source tree, remembered for cleanup
  local name=$1 logfile=$2; shift 2
  ( cd "$SRC" && exec "$@" ) >"$logfile" 2>&1 &
  PID[$name]=$!
  echo "${PID[$name]}" >>"$PIDFILE"
}

owns_port() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -q "pid=$2,"; } # owns_port PORT PID

wait_http() { # wait_http URL SECONDS NAME [PORT]: ready when the URL answers 2xx and (PORT) our process listens on it
  local i pid=${PID[$3]:-}
  for i in $(seq 1 $(($2 * 4))); do
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then tail -n 30 "$RUN/$3.log" >&2; die "$3 exited"; fi
    if curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; then
      [[ -z ${4:-} || -z $pid ]] && return 0
      owns_port "$4" "$pid" && return 0
    fi
    sleep 0.25
  done
  tail -n 30 "$RUN/$3.log" >&2
  [[ -n ${4:-} ]] && ss -Hltnp "sport = :$4" >&2
  die "$3 not ready at $1 after $2 s (or another process answers on port ${4:-?})"
}

# ---------------------------------------------------------------------------------------------------- CPU accounting
# Ticks (1/CLK_TCK s) of user+system time, read from /proc. PostgreSQL is the postmaster, its live backends and the
# backends it has reaped; a client (wrk, the load generator) is measured with the shell builtin `times`.
HZ=$(getconf CLK_TCK)
ticks() { [[ -n ${1:-} && -r /proc/$1/stat ]] && awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
  local master
  master=$(head -n 1 "$WORK/pg/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$master/stat" 2>/dev/null
    awk -v p="$master" '$4 == p { s += $14 + $15 } END { print s + 0 }' /proc/[0-9]*/stat 2>/dev/null; } | awk '{ s += $1 } END { print s + 0 }'
}
# The whole machine's busy ticks (user, nice, system, irq, softirq, steal): what our processes did not use of it went to
# the kernel's loopback networking (softirq) and to other processes - when that is large, the run was disturbed.
machine_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
cpu_snapshot() { echo "$(ticks "${PID[gateway]:-}") $(ticks "${PID[silo]:-}") $(pg_ticks) $(ticks "${PID[emulator]:-}") $(ticks "${PID[bare]:-}") $(machine_ticks)"; }
times_seconds() { sed -n 2p "$1" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); t += a[1] * 60 + a[2] } print t }'; }
# cpu_cores "BEFORE" "AFTER" WALL CLIENT_SECONDS -> "gateway silo postgres emulator bare machine client" in cores
cpu_cores() {
  awk -v b="$1" -v a="$2" -v wall="$3" -v client="$4" -v hz="$HZ" 'BEGIN {
    n = split(b, x, " "); split(a, y, " ");
    for (i = 1; i <= n; i++) printf "%.2f ", (y[i] - x[i]) / hz / wall;
    printf "%.2f\n", client / wall }'
}

now() { date +%s.%N; }
# budget DEFAULT: seconds a step may take - DEFAULT, or less when the run's hard limit is nearer (a minute is kept
# for the report and the clean-up). Clients run under `timeout` with it, so no step can outlive the run.
budget() { local left=$(( MAX_SECONDS - ($(date +%s) - STARTED_AT) - 60 )); (( left < $1 )) && echo $(( left > 20 ? left : 20 )) || echo "$1"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

# ---------------------------------------------------------------------------------------------------- build
rm -rf "$RUN"
mkdir -p "$RUN"
# What is measured: the working tree, or (SOURCE=commit) a read-only export of a commit with today's bench/ tools.
SRC=$ROOT
if [[ -n $SOURCE ]]; then
  SOURCE_REV=$(git -C "$ROOT" rev-parse --verify --quiet "$SOURCE^{commit}") || die "SOURCE=$SOURCE is not a commit"
  SRC=$WORK/src
  ART=$WORK/artifacts-src
  log "exporting $SOURCE (${SOURCE_REV:0:7}) to $SRC"
  rm -rf "$SRC"
  mkdir -p "$SRC"
  git -C "$ROOT" archive "$SOURCE_REV" | tar -x -C "$SRC"
  rm -rf "$SRC/bench"
  mkdir -p "$SRC/bench"
  tar -C "$ROOT/bench" --exclude=bin --exclude=obj -cf - BareKestrel LoadGenerator bench.slnf | tar -x -C "$SRC/bench"
  grep -q 'LoadGenerator.csproj' "$SRC/OnDemand.Orleans.sln" || die "the solution of $SOURCE does not list bench/LoadGenerator (a commit before bench/ existed)"
fi
if [[ $SKIP_BUILD != 1 ]]; then
  log "building Release ($( [[ -n $SOURCE ]] && echo "$SOURCE" || echo "working tree"), bench/bench.slnf into $ART)"
  dotnet build "$SRC/bench/bench.slnf" -c Release --artifacts-path "$ART" -v quiet -nologo -clp:ErrorsOnly >"$RUN/build.log" 2>&1 \
    || { cat "$RUN/build.log" >&2; die "build failed"; }
fi
bin() { echo "$ART/bin/$1/release/OnDemand.$1.dll"; }
for p in Silo BrokerGateway ConcourseEmulator BareKestrel LoadGenerator; do [[ -f $(bin $p) ]] || die "$(bin $p) missing (build first)"; done

# ---------------------------------------------------------------------------------------------------- stack
gen() { head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9'; }
export PGPASSWORD BROKER_USERNAME=broker BROKER_PASSWORD
PGPASSWORD=$(gen) BROKER_PASSWORD=$(gen)
OPERATOR_PASSWORD=$(gen)

log "PostgreSQL on 127.0.0.1:$PG_PORT (fresh data in $WORK/pg)"
rm -rf "$WORK/pg"
"$ROOT/scripts/postgres.sh" start "$WORK/pg" "$PG_PORT"
if [[ ${PG_STATEMENTS:-0} == 1 ]]; then
  printf "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track_planning = on\n" >>"$WORK/pg/postgresql.conf"
  "$ROOT/scripts/postgres.sh" stop "$WORK/pg" >/dev/null && "$ROOT/scripts/postgres.sh" start "$WORK/pg" "$PG_PORT"
  psql -h "$WORK/pg" -p "$PG_PORT" -U postgres -d ondemand -XAtqc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" || die "pg_stat_statements is not available"
fi
export ConnectionStrings__Orleans="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$PGPASSWORD;Database=ondemand;Maximum Pool Size=50"
( cd "$SRC" && dotnet "$(bin Silo)" migrate ) >"$RUN/migrate.log" 2>&1 || { cat "$RUN/migrate.log" >&2; die "sql/ migration failed"; }

log "Concourse API emulator (and its fake CredHub) on 127.0.0.1:$EMULATOR_PORT (builds take 0 s)"
emulator_args=(--port "$EMULATOR_PORT" --build-seconds 0 --username admin --password admin --team main --quiet)
if [[ $DB_ENGINE == postgresql ]]; then
  # A succeeded deploy build creates the cluster's admin role in the bench's PostgreSQL (as run.sh does).
  emulator_args+=(--cluster-postgres "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$PGPASSWORD;Database=postgres")
  export Databases__Endpoints__postgresql__Host=127.0.0.1 Databases__Endpoints__postgresql__Port=$PG_PORT
fi
start emulator "$RUN/emulator.log" dotnet "$(bin ConcourseEmulator)" "${emulator_args[@]}"
wait_http "http://127.0.0.1:$EMULATOR_PORT/_emulator/stats" 60 emulator "$EMULATOR_PORT"

export Concourse__Url="http://127.0.0.1:$EMULATOR_PORT" Concourse__Team=main Concourse__Username=admin Concourse__Password=admin
# CredHub as run.sh wires it: the broker stores each cluster's admin credentials there (part of every create).
if [[ ${CREDHUB:-1} == 1 ]]; then
  export CredHub__Url="http://127.0.0.1:$EMULATOR_PORT/credhub" CredHub__UaaUrl="http://127.0.0.1:$EMULATOR_PORT/uaa" CredHub__ClientId=broker CredHub__ClientSecret=broker-secret
fi
export Broker__Username=$BROKER_USERNAME Broker__Password=$BROKER_PASSWORD Broker__DashboardSecret="$(gen)$(gen)"
export Broker__OperatorUsername=operator Broker__OperatorPassword=$OPERATOR_PASSWORD Operator__Username=operator Operator__Password=$OPERATOR_PASSWORD
# The key ring's certificate (docs/security.md), one per bench run.
(umask 077; openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=bench-keyring -keyout "$RUN/keyring.key" -out "$RUN/keyring.crt" 2>/dev/null \
  && cat "$RUN/keyring.crt" "$RUN/keyring.key" >"$RUN/keyring.pem")
export DataProtection__CertificatePath="$RUN/keyring.pem"
export Orleans__ClusterId=bench Orleans__ServiceId=ondemand-bench Orleans__SiloPort=$SILO_PORT Orleans__GatewayPort=$SILO_GATEWAY_PORT
export Orleans__ApplySchema=false Lifecycle__PollInterval=$POLL_INTERVAL Serilog__MinimumLevel__Default=Warning

log "silo (silo port $SILO_PORT, gateway port $SILO_GATEWAY_PORT, http $SILO_HTTP_PORT) and gateway (http $GATEWAY_PORT)"
start silo "$RUN/silo.log" env Urls="http://127.0.0.1:$SILO_HTTP_PORT" dotnet "$(bin Silo)"
start gateway "$RUN/gateway.log" env Urls="http://127.0.0.1:$GATEWAY_PORT" dotnet "$(bin BrokerGateway)"
wait_http "http://127.0.0.1:$GATEWAY_PORT/health/ready" 120 gateway "$GATEWAY_PORT"
owns_port "$SILO_GATEWAY_PORT" "${PID[silo]}" && owns_port "$SILO_PORT" "${PID[silo]}" \
  || { ss -Hltnp "sport = :$SILO_GATEWAY_PORT or sport = :$SILO_PORT" >&2; die "the silo does not listen on $SILO_PORT/$SILO_GATEWAY_PORT"; }
# Warnings while the two connect (the client starts before the silo is in the membership table) are not counted.
SILO_LOG_START=$(wc -l <"$RUN/silo.log") GATEWAY_LOG_START=$(wc -l <"$RUN/gateway.log")

GW=http://127.0.0.1:$GATEWAY_PORT
AUTH="Authorization: Basic $(printf '%s:%s' "$BROKER_USERNAME" "$BROKER_PASSWORD" | base64 -w0)"
VERSION="X-Broker-API-Version: 2.15"

log "fetching the catalog once for the bare Kestrel baseline"
catalog_headers=$(curl -fsS --max-time 10 -D - -o "$RUN/catalog.json" -H "$AUTH" -H "$VERSION" "$GW/v2/catalog") || die "GET /v2/catalog failed"
content_type=$(printf '%s' "$catalog_headers" | tr -d '\r' | awk -F': ' 'tolower($1) == "content-type" { print $2 }')
start bare "$RUN/bare.log" dotnet "$(bin BareKestrel)" --file "$RUN/catalog.json" --port "$BARE_PORT" --content-type "${content_type:-application/json}"
wait_http "http://127.0.0.1:$BARE_PORT/health/live" 60 bare "$BARE_PORT"
cmp -s "$RUN/catalog.json" <(curl -fsS --max-time 10 "http://127.0.0.1:$BARE_PORT/v2/catalog") || die "bare Kestrel does not serve the gateway's catalog bytes"

loadgen() { # loadgen SECONDS ARGS...: the load generator, its phases bounded by SECONDS and killed 20 s after
  local seconds=$1; shift
  timeout -k 10 $(( seconds + 10 )) dotnet "$(bin LoadGenerator)" "$@" --timeout-seconds "$seconds" --url "$GW" --quiet
}
server_errors() { # the first error the gateway and the silo logged, with its cause
  local f
  for f in gateway silo; do
    grep -m1 -A3 -E '^\[[0-9:]+ (ERR|FTL)\]' "$RUN/$f.log" | sed "s/^/  $f log: /" >&2 || true
  done
}
log "scenario 2 setup: one cluster instance through OSB, waiting until last_operation says succeeded"
loadgen "$(budget 60)" clusters --count 1 --prefix "$LASTOP_PREFIX" --out "$RUN/lastop-setup.kv" >"$RUN/lastop-setup.txt" 2>&1 \
  || { cat "$RUN/lastop-setup.txt" >&2; server_errors; die "could not create the last_operation instance (is the working tree mid-change? see above)"; }
LASTOP_URL="$GW/v2/service_instances/${LASTOP_PREFIX}-0/last_operation?service_id=$SERVICE_ID&plan_id=$CLUSTER_PLAN_ID"
curl -fsS --max-time 5 -H "$AUTH" -H "$VERSION" "$LASTOP_URL" | grep -q '"succeeded"' || die "last_operation of ${LASTOP_PREFIX}-0 is not succeeded"

# ---------------------------------------------------------------------------------------------------- wrk rounds
# name|url|needs OSB headers
TARGETS=(
  "catalog-gateway|$GW/v2/catalog|osb"
  "catalog-bare|http://127.0.0.1:$BARE_PORT/v2/catalog|"
  "health-live|$GW/health/live|"
  "last-operation|$LASTOP_URL|osb"
)

parse_wrk() { # -> "rps p50_ms p99_ms non2xx socket_errors"
  awk 'function ms(v) { if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 } if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
                        if (v ~ /m$/) { sub(/m$/, "", v); return v * 60000 } if (v ~ /s$/) { sub(/s$/, "", v); return v * 1000 } return v + 0 }
       $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) } $1 == "Requests/sec:" { rps = $2 }
       /Non-2xx or 3xx responses:/ { bad = $NF }
       /Socket errors:/ { n = split($0, f, /[^0-9]+/); for (i = 1; i <= n; i++) se += f[i] }
       END { printf "%s %s %s %d %d\n", rps + 0, p50 + 0, p99 + 0, bad + 0, se + 0 }' "$1"
}

run_wrk() { # run_wrk NAME URL OSB SECONDS ROUND: appends "rps p50 p99 non2xx errors | cpu..." to $RUN/NAME.tsv
  local name=$1 url=$2 osb=$3 seconds=$4 round=$5 out="$RUN/wrk-$1-$5.txt" before after t0 wall
  local -a headers=()
  [[ -n $osb ]] && headers=(-H "$AUTH" -H "$VERSION")
  before=$(cpu_snapshot); t0=$(now)
  ( wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" --latency "${headers[@]}" "$url" >"$out" 2>&1; times >"$out.times" )
  wall=$(elapsed "$t0"); after=$(cpu_snapshot)
  [[ $round == warmup ]] && return 0
  echo "$(parse_wrk "$out") $(cpu_cores "$before" "$after" "$wall" "$(times_seconds "$out.times")")" >>"$RUN/$name.tsv"
}

log "warm-up: ${WARMUP}s of wrk per endpoint (JIT tiers, connection pools)"
for t in "${TARGETS[@]}"; do IFS='|' read -r name url osb <<<"$t"; run_wrk "$name" "$url" "$osb" "$WARMUP" warmup; done

for round in $(seq 1 "$ROUNDS"); do
  log "wrk round $round/$ROUNDS: -t$THREADS -c$CONNECTIONS -d${DURATION}s on each endpoint (order rotates per round)"
  n=${#TARGETS[@]}
  for i in $(seq 0 $((n - 1))); do
    IFS='|' read -r name url osb <<<"${TARGETS[$(((i + round - 1) % n))]}"
    run_wrk "$name" "$url" "$osb" "$DURATION" "$round"
  done
done

# ---------------------------------------------------------------------------------------------------- provisioning
curl -fsS -o /dev/null -X PUT --max-time 5 "http://127.0.0.1:$EMULATOR_PORT/_emulator/build-duration?seconds=0" || die "emulator control API"
pg_commits() { psql -h "$WORK/pg" -p "$PG_PORT" -U postgres -d ondemand -XAtqc "SELECT xact_commit FROM pg_stat_database WHERE datname = 'ondemand'" 2>/dev/null || echo 0; }
emulator_requests() { curl -fsS --max-time 5 "http://127.0.0.1:$EMULATOR_PORT/_emulator/stats" | tr -d ' \n' | sed -n 's/.*"logged_requests":\([0-9]*\).*/\1/p'; }
log "provisioning warm-up: $PROV_WARMUP clusters (not measured: JIT, connection pools, thread pool)"
loadgen "$(budget 180)" clusters --count "$PROV_WARMUP" --concurrency "$CONCURRENCY" --prefix bench-pw --out "$RUN/prov-warmup.kv" >"$RUN/prov-warmup.txt" 2>&1 \
  || { cat "$RUN/prov-warmup.txt" >&2; server_errors; die "provisioning warm-up failed"; }
LAST_PREFIX=""
pg_sql() { psql -h "$WORK/pg" -p "$PG_PORT" -U postgres -d ondemand -XAq "$@"; }
[[ ${PG_STATEMENTS:-0} == 1 ]] && pg_sql -tc "SELECT pg_stat_statements_reset()" >/dev/null
for round in $(seq 1 "$PROV_ROUNDS"); do
  prefix="bench-p${round}"
  log "provisioning round $round/$PROV_ROUNDS: $COUNT clusters, $CONCURRENCY PUTs in flight, then every PUT again (replay baseline)"
  commits0=$(pg_commits) requests0=$(emulator_requests)
  before=$(cpu_snapshot); t0=$(now)
  ( loadgen "$(budget 180)" clusters --count "$COUNT" --concurrency "$CONCURRENCY" --prefix "$prefix" \
      --out "$RUN/prov-$round.kv" >"$RUN/prov-$round.txt" 2>&1; echo $? >"$RUN/prov-$round.rc"; times >"$RUN/prov-$round.times" )
  wall=$(elapsed "$t0"); after=$(cpu_snapshot)
  commits1=$(pg_commits) requests1=$(emulator_requests)
  cat "$RUN/prov-$round.txt" >&2
  [[ -f $RUN/prov-$round.kv ]] || die "the load generator wrote no results (see $RUN/prov-$round.txt)"
  # The creates alone (PUTs and polling until the last succeeded): CPU in cores, then the round's wall time.
  echo "$(cpu_cores "$before" "$after" "$wall" "$(times_seconds "$RUN/prov-$round.times")") $wall" >>"$RUN/prov-cpu.tsv"
  # The replay baseline: the same PUTs again, measured apart.
  loadgen "$(budget 60)" clusters --count "$COUNT" --concurrency "$CONCURRENCY" --prefix "$prefix" --replay-passes "$REPLAY_PASSES" --replay-only \
    --out "$RUN/replay-$round.kv" >"$RUN/replay-$round.txt" 2>&1 || { cat "$RUN/replay-$round.txt" >&2; die "the replay of round $round failed"; }
  cat "$RUN/replay-$round.txt" >&2
  cat "$RUN/replay-$round.kv" >>"$RUN/prov-$round.kv"
  # Round trips per create.
  echo "$(( commits1 - commits0 )) $(( ${requests1:-0} - ${requests0:-0} )) ${requests1:-0}" >>"$RUN/prov-roundtrips.tsv"
  LAST_PREFIX=$prefix
done
if [[ ${PG_STATEMENTS:-0} == 1 ]]; then
  # Per statement over all provisioning rounds: PostgreSQL time (planning + execution), calls, rows, and the text.
  pg_sql -c "SELECT round((total_plan_time + total_exec_time)::numeric, 0) AS ms, round(total_plan_time::numeric, 0) AS plan_ms, calls, rows,
               round(((total_plan_time + total_exec_time) / greatest(calls, 1) * 1000)::numeric, 0) AS us_per_call,
               left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query
             FROM pg_stat_statements ORDER BY total_plan_time + total_exec_time DESC LIMIT 25" >"$RESULTS/latest-statements.txt" || true
fi

# ---------------------------------------------------------------------------------------------------- databases
# Run only when the broker can create a database here: the probe PUT must not answer 400 ("not available yet") and
# the probe database must then succeed within DB_PROBE_SECONDS (a MySQL cluster, for one, is not reachable locally).
DB_RAN=0 DB_STATUS=""
if [[ $DB_ENGINE == mysql ]]; then
  probe_cluster="${LASTOP_PREFIX}-c0" probe_space=bench-space
else
  loadgen "$(budget 60)" clusters --count 1 --prefix bench-dbprobe --service-id "$DB_SERVICE_ID" --plan-id "$DB_CLUSTER_PLAN_ID" \
    >"$RUN/db-probe-cluster.txt" 2>&1 || { cat "$RUN/db-probe-cluster.txt" >&2; die "could not create the $DB_ENGINE probe cluster"; }
  probe_cluster=bench-dbprobe-c0 probe_space=bench-space
fi
log "databases ($DB_ENGINE): probing one database PUT (plan $DATABASE_PLAN_ID) in cluster $probe_cluster"
probe_body='{"service_id":"'$DB_SERVICE_ID'","plan_id":"'$DATABASE_PLAN_ID'","organization_guid":"bench-org","space_guid":"'$probe_space'","parameters":{"cluster":"'$probe_cluster'"},"context":{"platform":"cloudfoundry","organization_guid":"bench-org","space_guid":"'$probe_space'","instance_name":"bench-db-probe"}}'
DB_PROBE=$(curl -sS -o "$RUN/db-probe.json" -w '%{http_code}' --max-time 30 -X PUT -H "$AUTH" -H "$VERSION" -H 'Content-Type: application/json' \
  --data "$probe_body" "$GW/v2/service_instances/bench-db-probe?accepts_incomplete=true") || DB_PROBE=000
probe_state=""
if [[ $DB_PROBE == 400 ]]; then
  DB_STATUS="databases: not available yet (probe PUT answered 400)"
elif [[ $DB_PROBE =~ ^20[012]$ ]]; then
  for _ in $(seq 1 $(( DB_PROBE_SECONDS * 4 ))); do
    probe_state=$(curl -sS --max-time 5 -H "$AUTH" -H "$VERSION" \
      "$GW/v2/service_instances/bench-db-probe/last_operation?service_id=$DB_SERVICE_ID&plan_id=$DATABASE_PLAN_ID" 2>/dev/null || true)
    [[ $DB_PROBE == 200 || $DB_PROBE == 201 || $probe_state == *'"succeeded"'* || $probe_state == *'"failed"'* ]] && break
    sleep 0.25
  done
  if [[ $DB_PROBE == 200 || $DB_PROBE == 201 || $probe_state == *'"succeeded"'* ]]; then
    DB_STATUS=ok
  else
    DB_STATUS="databases: not measurable in this stack - the probe PUT answered $DB_PROBE but the database did not succeed within ${DB_PROBE_SECONDS}s: $(printf '%s' "$probe_state" | tr -d '|' | head -c 240)"
  fi
else
  DB_STATUS="databases: not available (probe PUT answered $DB_PROBE: $(head -c 200 "$RUN/db-probe.json" 2>/dev/null | tr -d '|'))"
fi
if [[ $DB_STATUS == ok ]]; then
  # MySQL databases go into the clusters of the last provisioning round (they exist and are ready) when it made enough.
  existing=()
  if [[ $DB_ENGINE == mysql && -n $LAST_PREFIX && $COUNT -ge $DB_CLUSTERS ]]; then existing=(--existing-clusters "$LAST_PREFIX"); fi
  log "databases ($DB_ENGINE): $((DB_CLUSTERS * DB_PER_CLUSTER)) databases in $DB_CLUSTERS clusters"
  before=$(cpu_snapshot); t0=$(now)
  ( loadgen "$(budget 240)" databases --clusters "$DB_CLUSTERS" --per-cluster "$DB_PER_CLUSTER" --concurrency "$CONCURRENCY" --prefix bench-db \
      --service-id "$DB_SERVICE_ID" --plan-id "$DB_CLUSTER_PLAN_ID" --database-plan-id "$DATABASE_PLAN_ID" \
      "${existing[@]}" --replay --out "$RUN/db.kv" >"$RUN/db.txt" 2>&1; times >"$RUN/db.times" )
  wall=$(elapsed "$t0"); after=$(cpu_snapshot)
  cat "$RUN/db.txt" >&2
  if [[ -f $RUN/db.kv ]]; then
    echo "$(cpu_cores "$before" "$after" "$wall" "$(times_seconds "$RUN/db.times")")" >"$RUN/db-cpu.tsv"
    DB_RAN=1
  else
    DB_STATUS="databases: the load generator was stopped before it reported (see bench/.work/run/db.txt)"
  fi
fi
[[ $DB_RAN == 1 ]] || log "$DB_STATUS"

# ---------------------------------------------------------------------------------------------------- report
col() { awk -v c="$2" '{ print $c }' "$1"; }                         # column c of a whitespace table
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "nan"; exit } print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
range() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }
kv() { awk -F= -v k="$2" '$1 == k { print $2 }' "$1"; }               # kv FILE KEY
kvs() { local k=$1 r; for r in $(seq 1 "$PROV_ROUNDS"); do kv "$RUN/prov-$r.kv" "$k"; done; } # one value per round
f0() { awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }
f1() { awk -v v="$1" 'BEGIN { printf "%.1f", v }'; }
f2() { awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }
pct() { awk -v v="$1" 'BEGIN { printf "%.0f%%", v * 100 }'; }
# paired ratios: round i of A divided by round i of B, median over rounds
paired() { paste -d' ' <(col "$RUN/$1.tsv" "$3") <(col "$RUN/$2.tsv" "$3") | awk '$2 > 0 { print $1 / $2 }' | median; }
paired_prov() { paste -d' ' <(kvs "$1") <(kvs "$2") | awk '$2 > 0 { print $1 / $2 }' | median; }
check() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == ">=") ? (v >= t) : (v < t); print ok ? "met" : "MISSED" }'; }

m() { col "$RUN/$1.tsv" "$2" | median; }   # median of a wrk metric: 1 rps, 2 p50, 3 p99, 4 non2xx, 5 socket errors
cat_rps=$(m catalog-gateway 1) bare_rps=$(m catalog-bare 1) cat_ratio=$(paired catalog-gateway catalog-bare 1)
lo_rps=$(m last-operation 1) live_rps=$(m health-live 1) lo_ratio=$(paired last-operation health-live 1)
lo_p99=$(m last-operation 3)
pg_per_create=$(awk -v n="$COUNT" '{ print $1 / n }' "$RUN/prov-roundtrips.tsv" | median)
# The emulator's request log keeps at most 100,000 entries; past that the difference says nothing.
emu_per_create=$(awk -v n="$COUNT" '$3 < 100000 { print $2 / n }' "$RUN/prov-roundtrips.tsv" | median)
prov_rate=$(kvs clusters_rate_per_s | median) replay_rate=$(kvs replay_put_rate_per_s | median)
bad_total=$(cat "$RUN"/catalog-gateway.tsv "$RUN"/catalog-bare.tsv "$RUN"/health-live.tsv "$RUN"/last-operation.tsv | awk '{ s += $4 + $5 } END { print s + 0 }')
prov_not_ok=$(for r in $(seq 1 "$PROV_ROUNDS"); do echo $(( $(kv "$RUN/prov-$r.kv" clusters_count) - $(kv "$RUN/prov-$r.kv" clusters_succeeded) )); done | awk '{ s += $1 } END { print s + 0 }')

if [[ -n $SOURCE ]]; then
  git_rev="${SOURCE_REV:0:7} (SOURCE=$SOURCE, exported; bench tools from the working tree)"
else
  git_rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  [[ -z $(git -C "$ROOT" status --porcelain -- src tests config sql templates 2>/dev/null) ]] || git_rev="$git_rev + uncommitted changes in src/ tests/ config/ sql/ templates/ (working tree)"
fi
cpu_model=$(lscpu 2>/dev/null | awk -F: '/Model name/ { gsub(/^ +/, "", $2); print $2; exit }')
total=$(( $(date +%s) - STARTED_AT ))

{
  echo "# OnDemand.Orleans benchmark - $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) cores ($cpu_model), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr), .NET $(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/ { v = $2 } END { print v }'), commit $git_rev."
  echo "Everything (wrk/load generator, gateway, silo, PostgreSQL, emulator, bare Kestrel) shares these cores on 127.0.0.1."
  echo "Settings: Release builds; Lifecycle__PollInterval=$POLL_INTERVAL; Serilog__MinimumLevel__Default=Warning; emulator --build-seconds 0 $( [[ ${CREDHUB:-1} == 1 ]] && echo "with its fake CredHub" || echo "without CredHub (CREDHUB=0)"); databases engine $DB_ENGINE;"
  echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency, $ROUNDS interleaved rounds after a ${WARMUP}s warm-up; provisioning $PROV_ROUNDS rounds of $COUNT clusters after a $PROV_WARMUP-cluster warm-up, $CONCURRENCY PUTs in flight, replay $REPLAY_PASSES x."
  echo "Values are medians over rounds; ratio = median of the per-round ratios (value / baseline of the same round)."
  echo
  echo "| scenario | metric | value | baseline | ratio | target |"
  echo "|---|---|---:|---:|---:|---|"
  echo "| catalog | req/s: gateway GET /v2/catalog vs bare Kestrel (same bytes) | $(f0 "$cat_rps") | $(f0 "$bare_rps") | $(pct "$cat_ratio") | >= 70%: $(check "$cat_ratio" '>=' 0.70) |"
  echo "| catalog | p50 latency ms | $(f2 "$(m catalog-gateway 2)") | $(f2 "$(m catalog-bare 2)") | $(f2 "$(paired catalog-gateway catalog-bare 2)")x | |"
  echo "| catalog | p99 latency ms | $(f2 "$(m catalog-gateway 3)") | $(f2 "$(m catalog-bare 3)") | $(f2 "$(paired catalog-gateway catalog-bare 3)")x | |"
  echo "| last_operation | req/s: GET last_operation (grain call) vs GET /health/live (no grain call) | $(f0 "$lo_rps") | $(f0 "$live_rps") | $(pct "$lo_ratio") | tens of thousands: >= 20000/s $(check "$lo_rps" '>=' 20000) |"
  echo "| last_operation | p50 latency ms | $(f2 "$(m last-operation 2)") | $(f2 "$(m health-live 2)") | $(f2 "$(paired last-operation health-live 2)")x | |"
  echo "| last_operation | p99 latency ms | $(f2 "$lo_p99") | $(f2 "$(m health-live 3)") | $(f2 "$(paired last-operation health-live 3)")x | < 10 ms: $(check "$lo_p99" '<' 10) |"
  echo "| provisioning | creates/s: $COUNT clusters PUT -> last_operation succeeded, vs PUT/s of the same PUTs replayed (200, no write) | $(f1 "$prov_rate") | $(f1 "$replay_rate") | $(pct "$(paired_prov clusters_rate_per_s replay_put_rate_per_s)") | |"
  echo "| provisioning | wall time s ($COUNT clusters, first PUT to last succeeded) | $(f2 "$(kvs clusters_wall_s | median)") | | | |"
  echo "| provisioning | PUT latency p50 ms (create vs replay) | $(f1 "$(kvs clusters_put_p50_ms | median)") | $(f1 "$(kvs replay_put_p50_ms | median)") | $(f2 "$(paired_prov clusters_put_p50_ms replay_put_p50_ms)")x | |"
  echo "| provisioning | PUT latency p99 ms (create vs replay) | $(f1 "$(kvs clusters_put_p99_ms | median)") | $(f1 "$(kvs replay_put_p99_ms | median)") | $(f2 "$(paired_prov clusters_put_p99_ms replay_put_p99_ms)")x | |"
  echo "| provisioning | PUT phase creates/s (accepted 202, before polling ends) | $(f1 "$(kvs clusters_put_rate_per_s | median)") | | | |"
  echo "| provisioning | round trips per create: PostgreSQL transactions / Concourse (emulator) requests | $(f1 "$pg_per_create") / $(f1 "$emu_per_create") | | | |"
  echo "| provisioning | not succeeded (failed + rejected + timed out), all rounds | $prov_not_ok | | | 0: $( [[ $prov_not_ok == 0 ]] && echo met || echo MISSED) |"
  if [[ $DB_RAN == 1 ]]; then
    echo "| databases | creates/s: $(kv "$RUN/db.kv" databases_count) $DB_ENGINE databases in $DB_CLUSTERS clusters, vs PUT/s replayed | $(f1 "$(kv "$RUN/db.kv" databases_rate_per_s)") | $(f1 "$(kv "$RUN/db.kv" replay_put_rate_per_s)") | $(pct "$(awk -v a="$(kv "$RUN/db.kv" databases_rate_per_s)" -v b="$(kv "$RUN/db.kv" replay_put_rate_per_s)" 'BEGIN { print (b > 0 ? a / b : 0) }')") | |"
    echo "| databases | wall time s | $(f2 "$(kv "$RUN/db.kv" databases_wall_s)") | | | |"
    echo "| databases | PUT latency p50 / p99 ms | $(f1 "$(kv "$RUN/db.kv" databases_put_p50_ms)") / $(f1 "$(kv "$RUN/db.kv" databases_put_p99_ms)") | $(f1 "$(kv "$RUN/db.kv" replay_put_p50_ms)") / $(f1 "$(kv "$RUN/db.kv" replay_put_p99_ms)") | | |"
    echo "| databases | not succeeded (failed + rejected + timed out) | $(( $(kv "$RUN/db.kv" databases_count) - $(kv "$RUN/db.kv" databases_succeeded) )) | | | 0: $( [[ $(kv "$RUN/db.kv" databases_count) == "$(kv "$RUN/db.kv" databases_succeeded)" ]] && echo met || echo MISSED) |"
  else
    echo "| databases | $DB_STATUS | | | | |"
  fi
  echo
  echo "CPU used while each scenario ran, in cores (of $(nproc)), mean over its rounds. A large 'rest of machine' means other work shared the cores:"
  echo
  echo "| scenario | gateway | silo | postgres | emulator | bare Kestrel | client (wrk / load generator) | all of these | rest of machine (kernel softirq, other processes) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  cpu_row() { # cpu_row LABEL FILE FIRST: FIRST is the column of "gateway" (6 in a wrk tsv, 1 in a cpu tsv)
    awk -v label="$1" -v f="$3" '{ for (i = f; i <= f + 6; i++) s[i] += $i; n++ }
      END { printf "| %s |", label; t = 0
            for (i = f; i <= f + 6; i++) { if (i == f + 5) continue; printf " %.2f |", s[i] / n; t += s[i] / n }
            rest = s[f + 5] / n - t; printf " %.2f | %.2f |\n", t, rest < 0 ? 0 : rest }' "$2"
  }
  cpu_row "catalog (gateway)" "$RUN/catalog-gateway.tsv" 6
  cpu_row "catalog (bare Kestrel)" "$RUN/catalog-bare.tsv" 6
  cpu_row "health/live" "$RUN/health-live.tsv" 6
  cpu_row "last_operation" "$RUN/last-operation.tsv" 6
  cpu_row "provisioning (creates only)" "$RUN/prov-cpu.tsv" 1
  [[ $DB_RAN == 1 ]] && cpu_row "databases" "$RUN/db-cpu.tsv" 1
  echo
  echo "CPU time per cluster create, in ms (cores x round wall time / $COUNT creates; median over rounds): what one core of each part"
  echo "would sustain alone, whatever shares the machine here."
  echo
  echo "| gateway | silo | postgres | emulator (Concourse + CredHub) | load generator | all of these |"
  echo "|---:|---:|---:|---:|---:|---:|"
  per_create() { awk -v c="$1" -v n="$COUNT" '{ print $c * $8 / n * 1000 }' "$RUN/prov-cpu.tsv" | median; }
  printf '| %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n' "$(per_create 1)" "$(per_create 2)" "$(per_create 3)" "$(per_create 4)" "$(per_create 7)" \
    "$(awk -v n="$COUNT" '{ print ($1 + $2 + $3 + $4 + $7) * $8 / n * 1000 }' "$RUN/prov-cpu.tsv" | median)"
  echo
  echo "Rounds (req/s per round; provisioning creates/s per round), to judge the noise:"
  echo
  for name in catalog-gateway catalog-bare health-live last-operation; do
    echo "- $name: $(col "$RUN/$name.tsv" 1 | awk '{ printf "%s%.0f", (NR > 1 ? ", " : ""), $1 }') req/s; p99 $(col "$RUN/$name.tsv" 3 | awk '{ printf "%s%.2f", (NR > 1 ? ", " : ""), $1 }') ms"
  done
  echo "- provisioning: $(kvs clusters_rate_per_s | awk '{ printf "%s%.1f", (NR > 1 ? ", " : ""), $1 }') creates/s; replay $(kvs replay_put_rate_per_s | awk '{ printf "%s%.0f", (NR > 1 ? ", " : ""), $1 }') PUT/s; load generator CPU $(kvs clusters_client_cpu_cores | awk '{ printf "%s%.2f", (NR > 1 ? ", " : ""), $1 }') cores"
  echo "- non-2xx responses or socket errors in all wrk runs: $bad_total$( [[ $bad_total != 0 ]] && echo ' (figures are suspect: see bench/.work/run/wrk-*.txt)')"
  warnings() { tail -n "+$(($2 + 1))" "$1" | grep -cE '^\[[0-9:]+ (WRN|ERR|FTL)\]' || true; }
  echo "- log lines at Warning or above once ready: silo $(warnings "$RUN/silo.log" "$SILO_LOG_START"), gateway $(warnings "$RUN/gateway.log" "$GATEWAY_LOG_START") (logs in bench/.work/run/)"
  echo "- total bench time: ${total}s"
} >"$RESULTS/latest.md"

echo
cat "$RESULTS/latest.md"
log "written to bench/results/latest.md; raw outputs in bench/.work/run/"

# ---------------------------------------------------------------------------------------------------- scale-out
# SCALE_OUT=1: then the multi-node scenarios of issue 10 (failover, rolling restart, chaos, load balancer overhead,
# memory per activation) on `SILOS=2 GATEWAYS=2 ./run.sh`: bench/scale-out.sh, after this run's stack is stopped.
if [[ ${SCALE_OUT:-0} == 1 ]]; then
  log "scale-out scenarios (bench/scale-out.sh), after stopping this run's stack"
  for name in bare gateway silo emulator; do [[ -n ${PID[$name]:-} ]] && stop_pid "${PID[$name]}"; PID[$name]=""; done
  "$ROOT/scripts/postgres.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
  "$ROOT/bench/scale-out.sh" || log "bench/scale-out.sh failed (exit $?); see bench/.work/scale-out/out"
fi
