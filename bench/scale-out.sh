#!/usr/bin/env bash
# bench/scale-out.sh - the scale-out figures of issue 10 (docs/scaling-out.md), on the one command of the README:
# `SILOS=2 GATEWAYS=2 ./run.sh` (nginx in front of the gateways, each process supervised and restarted after
# RESTART_DELAY), with its own ports and data folder, the Concourse emulator's builds taking no time. Drives it with
# `loadgen soak` (bench/LoadGenerator/Soak.cs) through nginx, prints a markdown report (also
# bench/results/scale-out-latest.md) and stops everything it started.
#
#   failover   kill -9 one silo under load, later kill -9 one gateway: failures per second around each kill, the time
#              from the kill to the last failure, the slowest request; nothing lost, no duplicate build
#   rolling    TERM every silo, then every gateway, one at a time (the supervisor starts each again; the next one only
#              when it rejoined): failed requests (target 0)
#   chaos      the multi-tenant soak with a random silo or gateway killed (-9) or stopped (TERM) every CHAOS_EVERY s
#   databases  after a warm-up of DB_WARMUP_CLUSTERS (200) clusters, not measured: DB_CLUSTERS (1000) clusters with
#              DB_PER_CLUSTER (10) databases each, then twice that: time and the
#              doubling ratio (the "osb" provisioner against one fake inner broker: see below)
#   memory     ACTIVATIONS (100000) reads of unknown instance ids (each activates grains): the silos' managed heap
#              (GC.GetTotalMemory, /metrics) and activation count before and after: bytes per activation
#   lb         wrk on one instance's last_operation through nginx vs a gateway hit directly, ROUNDS alternating
#              rounds: the load balancer's overhead as a ratio
# Knobs: SCENARIOS="lb failover rolling chaos" SILOS=2 GATEWAYS=2 TENANTS=8 WORKERS=8 READERS=4 DATABASES=0
#   SOAK_SECONDS=40 CHAOS_SECONDS=60 CHAOS_EVERY=12 ROUNDS=3 DURATION=5 CONNECTIONS=32 BASE_PORT=28500 SKIP_BUILD=0
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/bench/.work/scale-out
RESULTS=$ROOT/bench/results
SCENARIOS=${SCENARIOS:-lb failover rolling chaos memory}
SILOS=${SILOS:-2} GATEWAYS=${GATEWAYS:-2} TENANTS=${TENANTS:-8} WORKERS=${WORKERS:-8} READERS=${READERS:-4} DATABASES=${DATABASES:-0}
SOAK_SECONDS=${SOAK_SECONDS:-40} CHAOS_SECONDS=${CHAOS_SECONDS:-60} CHAOS_EVERY=${CHAOS_EVERY:-12}
ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-5} CONNECTIONS=${CONNECTIONS:-32} BASE_PORT=${BASE_PORT:-28500}
PORT=$BASE_PORT PG_PORT=$((BASE_PORT + 1)) EMULATOR_PORT=$((BASE_PORT + 2)) SILO_HTTP_PORT=$((BASE_PORT + 10))
SILO_PORT=$((BASE_PORT + 20)) SILO_GATEWAY_PORT=$((BASE_PORT + 30)) GATEWAY_HTTP_PORT=$((BASE_PORT + 40))
DATA_DIR=$WORK/data
log() { printf '\033[1m[scale-out %s]\033[0m %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
command -v wrk >/dev/null || die "wrk is missing: sudo apt-get install -y wrk"
mkdir -p "$WORK" "$RESULTS"
rm -rf "$DATA_DIR" "$WORK/out"; mkdir -p "$WORK/out"
OUT=$WORK/out

RUNSH_PID="" INNER_PID=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [[ -n $INNER_PID ]] && kill -TERM "$INNER_PID" 2>/dev/null
  if [[ -n $RUNSH_PID ]] && kill -0 "$RUNSH_PID" 2>/dev/null; then
    log "stopping the stack (TERM to run.sh, pid $RUNSH_PID)"
    kill -TERM "$RUNSH_PID" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$RUNSH_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$RUNSH_PID" 2>/dev/null && kill -KILL "$RUNSH_PID" 2>/dev/null
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Databases: the "osb" provisioner (a database is an instance of the cluster's own inner OSB broker) with ONE fake
# inner broker (tests/ConcourseEmulator/FakeInnerBroker.cs: in memory, synchronous, any cluster's admin credentials)
# standing in for every emulated cluster's: cheap local provisioning, so the databases scenario measures the broker.
# The catalog is config/broker.yml with the MySQL service's provisioner switched to osb.
INNER_PORT=$((BASE_PORT + 4))
mkdir -p "$WORK/catalog"
sed -e 's|provisioner: mysql|provisioner: osb|' -e "s|\.\./templates/|$ROOT/templates/|" config/broker.yml >"$WORK/catalog/broker.yml"
export Broker__ConfigPath=$WORK/catalog/broker.yml Databases__InnerBrokerScheme=http
export Databases__Endpoints__osb__Host=127.0.0.1 Databases__Endpoints__osb__Port=$INNER_PORT
log "starting SILOS=$SILOS GATEWAYS=$GATEWAYS ./run.sh on port $PORT (data $DATA_DIR, log $OUT/run.log); builds take 0 s"
# Fast grain polling of the emulated builds (as bench/run.sh); no admin role per cluster in the local PostgreSQL (every
# database here goes to the fake inner broker, and that role work - a CREATE ROLE with its password hashed and one
# GRANT at a time - was half of the clusters' time); everything else is run.sh's defaults.
SILOS=$SILOS GATEWAYS=$GATEWAYS PORT=$PORT PG_PORT=$PG_PORT EMULATOR_PORT=$EMULATOR_PORT SILO_HTTP_PORT=$SILO_HTTP_PORT \
  SILO_PORT=$SILO_PORT SILO_GATEWAY_PORT=$SILO_GATEWAY_PORT GATEWAY_HTTP_PORT=$GATEWAY_HTTP_PORT DATA_DIR=$DATA_DIR \
  EMULATOR_BUILD_SECONDS=0 EMULATOR_CLUSTER_ROLES=0 RESTART_DELAY=${RESTART_DELAY:-2} Lifecycle__PollInterval=00:00:00.2 Serilog__MinimumLevel__Default=Warning \
  setsid ./run.sh >"$OUT/run.log" 2>&1 &
RUNSH_PID=$!
for _ in $(seq 1 900); do
  grep -q "broker is ready" "$OUT/run.log" 2>/dev/null && break
  kill -0 "$RUNSH_PID" 2>/dev/null || { tail -30 "$OUT/run.log" >&2; die "run.sh exited"; }
  sleep 1
done
grep -q "broker is ready" "$OUT/run.log" || die "run.sh did not become ready in 15 min"
# shellcheck disable=SC1091
source "$DATA_DIR/credentials.env"
export BROKER_USERNAME BROKER_PASSWORD OPERATOR_USERNAME OPERATOR_PASSWORD PGPASSWORD
LB=http://127.0.0.1:$PORT
LOADGEN=(dotnet "$ROOT/bench/LoadGenerator/bin/Release/net10.0/OnDemand.LoadGenerator.dll")
RUN_DIR=$DATA_DIR/run
dotnet "$ROOT/tests/ConcourseEmulator/bin/Release/net10.0/OnDemand.ConcourseEmulator.dll" --port $((BASE_PORT + 3)) --inner-broker-port "$INNER_PORT" \
  --quiet >"$OUT/inner-broker.log" 2>&1 &
INNER_PID=$!
AUTH="Authorization: Basic $(printf '%s:%s' "$BROKER_USERNAME" "$BROKER_PASSWORD" | base64 -w0)"
VERSION="X-Broker-API-Version: 2.15"
psql_status() { # psql_status SILO_PORT: the silo's newest membership status (3 Active, 6 Dead)
  PGPASSWORD=$PGPASSWORD psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d ondemand -XAtqc \
    "SELECT status FROM orleansmembershiptable WHERE port = $1 ORDER BY generation DESC LIMIT 1" 2>/dev/null || true
}
event() { echo "$(date +%s%3N) $*" >>"$EVENTS"; log "event: $*"; }
pid_of() { cat "$RUN_DIR/$1.pid" 2>/dev/null || true; }
wait_new_pid() { # wait_new_pid NAME OLD: until the supervisor started NAME again
  for _ in $(seq 1 600); do local p; p=$(pid_of "$1"); [[ -n $p && $p != "$2" ]] && kill -0 "$p" 2>/dev/null && return 0; sleep 0.1; done
  die "$1 was not restarted"
}
wait_silo_active() { for _ in $(seq 1 600); do [[ $(psql_status "$1") == 3 ]] && return 0; sleep 0.2; done; die "silo on port $1 did not rejoin"; }
wait_ready() { for _ in $(seq 1 600); do curl -fsS -o /dev/null --max-time 2 "$1/health/ready" 2>/dev/null && return 0; sleep 0.2; done; die "$1 not ready"; }
soak() { # soak NAME SECONDS [extra loadgen args]: in the background; its pid in SOAK_PID
  local name=$1 seconds=$2; shift 2
  EVENTS=$OUT/$name.events; : >"$EVENTS"
  "${LOADGEN[@]}" soak --url "$LB" --seconds "$seconds" --timeout-seconds $((seconds + 180)) --tenants "$TENANTS" --workers "$WORKERS" \
    --readers "$READERS" --databases "$DATABASES" --prefix "$name" --poll-interval-ms 100 --events "$EVENTS" \
    --emulator "http://127.0.0.1:$EMULATOR_PORT" --inner-broker "http://127.0.0.1:$INNER_PORT" --out "$OUT/$name.kv" "$@" >"$OUT/$name.txt" 2>&1 &
  SOAK_PID=$!
}
REPORT=$OUT/report.md
{
  echo "# OnDemand.Orleans scale-out benchmark - $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start (shared), commit $(git rev-parse --short HEAD)."
  echo "Topology: \`SILOS=$SILOS GATEWAYS=$GATEWAYS ./run.sh\` (nginx on $PORT, supervisors restart a dead process after ${RESTART_DELAY:-2} s), emulator builds 0 s."
  echo "Load: \`loadgen soak\` through nginx, $TENANTS tenants, $WORKERS workers (create cluster, poll with back-off, delete every other one;"
  echo "databases per even cluster: $DATABASES), $READERS readers polling last_operation; everything left deleted at the end."
  echo
} >"$REPORT"

# ------------------------------------------------------------------------------------------------ lb overhead
if [[ " $SCENARIOS " == *" lb "* ]]; then
  log "lb: one cluster, then wrk on its last_operation through nginx and on gateway1 directly ($ROUNDS rounds of ${DURATION}s)"
  "${LOADGEN[@]}" clusters --url "$LB" --count 1 --prefix lbprobe --quiet --timeout-seconds 120 >"$OUT/lb-setup.txt" 2>&1 || { cat "$OUT/lb-setup.txt"; die "lb probe cluster"; }
  path="/v2/service_instances/lbprobe-0/last_operation?service_id=811b8485-aa65-4bea-b4d0-f10f32833187&plan_id=38ee5955-c98a-402e-bb40-34f509bdc233"
  rps() { awk '$1 == "Requests/sec:" { print $2 }' "$1"; }
  p99() { awk 'function ms(v) { if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 } if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 } if (v ~ /s$/) { sub(/s$/, "", v); return v * 1000 } return v + 0 } $1 == "99%" { print ms($2) }' "$1"; }
  wrk -t2 -c"$CONNECTIONS" -d2s -H "$AUTH" -H "$VERSION" "$LB$path" >/dev/null 2>&1 || true
  wrk -t2 -c"$CONNECTIONS" -d2s -H "$AUTH" -H "$VERSION" "http://127.0.0.1:$GATEWAY_HTTP_PORT$path" >/dev/null 2>&1 || true
  : >"$OUT/lb.tsv"
  for r in $(seq 1 "$ROUNDS"); do
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "$AUTH" -H "$VERSION" "$LB$path" >"$OUT/lb-nginx-$r.txt" 2>&1
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "$AUTH" -H "$VERSION" "http://127.0.0.1:$GATEWAY_HTTP_PORT$path" >"$OUT/lb-direct-$r.txt" 2>&1
    echo "$(rps "$OUT/lb-nginx-$r.txt") $(rps "$OUT/lb-direct-$r.txt") $(p99 "$OUT/lb-nginx-$r.txt") $(p99 "$OUT/lb-direct-$r.txt")" >>"$OUT/lb.tsv"
  done
  median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
  {
    echo "## Load balancer overhead (wrk -t2 -c$CONNECTIONS, $ROUNDS alternating rounds of ${DURATION}s, GET last_operation of one instance)"
    echo
    echo "| path | req/s (median) | p99 ms (median) |"
    echo "|---|---:|---:|"
    echo "| through nginx (2 gateways behind it) | $(awk '{ print $1 }' "$OUT/lb.tsv" | median) | $(awk '{ print $3 }' "$OUT/lb.tsv" | median) |"
    echo "| gateway1 directly | $(awk '{ print $2 }' "$OUT/lb.tsv" | median) | $(awk '{ print $4 }' "$OUT/lb.tsv" | median) |"
    echo "| ratio nginx / direct (median of per-round ratios) | $(awk '$2 > 0 { printf "%.2f\n", $1 / $2 }' "$OUT/lb.tsv" | median) | $(awk '$4 > 0 { printf "%.2f\n", $3 / $4 }' "$OUT/lb.tsv" | median) |"
    echo
    echo "Rounds (nginx req/s, direct req/s, nginx p99, direct p99): $(tr '\n' ';' <"$OUT/lb.tsv")"
    echo
  } >>"$REPORT"
fi

# ------------------------------------------------------------------------------------------------ failover
if [[ " $SCENARIOS " == *" failover "* ]]; then
  log "failover: soak ${SOAK_SECONDS}s; kill -9 silo1 at 10 s, gateway1 at 25 s"
  soak failover "$SOAK_SECONDS"
  sleep 10
  old=$(pid_of silo1); event "kill -9 silo1 (pid $old)"; kill -KILL "$old"
  for _ in $(seq 1 300); do [[ $(psql_status "$SILO_PORT") == 6 ]] && break; sleep 0.1; done
  event "silo1 declared dead in the membership table"
  sleep 13
  old=$(pid_of gateway1); event "kill -9 gateway1 (pid $old)"; kill -KILL "$old"
  wait "$SOAK_PID" || log "soak failover: exit code $? (lost operations, see below)"
  { echo "## Failover: kill -9 of a silo, then of a gateway, under load"; echo; cat "$OUT/failover.txt"; echo; } >>"$REPORT"
  wait_silo_active "$SILO_PORT"; wait_ready "http://127.0.0.1:$GATEWAY_HTTP_PORT"
fi

# ------------------------------------------------------------------------------------------------ rolling restart
if [[ " $SCENARIOS " == *" rolling "* ]]; then
  log "rolling restart: every silo, then every gateway, TERM one at a time under load"
  soak rolling 600 --stop-file "$OUT/rolling.stop"
  sleep 5
  for i in $(seq 1 "$SILOS"); do
    old=$(pid_of "silo$i"); event "TERM silo$i"; kill -TERM "$old"
    wait_new_pid "silo$i" "$old"; wait_silo_active $((SILO_PORT + i - 1)); event "silo$i rejoined"
    # The gateways find a silo that joined within GatewayListRefreshPeriod (5 s), and may still hold its address as
    # dead: wait 10 s, then until its Orleans gateway receives client messages (its /metrics).
    sleep 10
    received() { curl -fsS --max-time 10 -u "$OPERATOR_USERNAME:$OPERATOR_PASSWORD" "http://127.0.0.1:$((SILO_HTTP_PORT + i - 1))/metrics" 2>/dev/null \
      | awk '$1 ~ /^microsoft_orleans_orleans_gateway_received/ { s += $NF } END { printf "%.0f", s }'; }
    r0=$(received)
    for _ in $(seq 1 120); do sleep 0.5; (( $(received) - r0 >= 20 )) && break; done
    event "silo$i receives the gateways' messages"
  done
  for j in $(seq 1 "$GATEWAYS"); do
    old=$(pid_of "gateway$j"); event "TERM gateway$j"; kill -TERM "$old"
    wait_new_pid "gateway$j" "$old"; wait_ready "http://127.0.0.1:$((GATEWAY_HTTP_PORT + j - 1))"; event "gateway$j ready again"
    sleep 6   # nginx leaves a gateway that refused connections out for fail_timeout (5 s): not two down at once
  done
  sleep 3
  touch "$OUT/rolling.stop"   # the soak's --seconds is long: end it now (it finishes its lifecycles)
  wait "$SOAK_PID" || log "soak rolling: exit code $?"
  { echo "## Rolling restart: TERM every silo, then every gateway, one at a time (target: no failed request)"; echo; cat "$OUT/rolling.txt"; echo; } >>"$REPORT"
fi

# ------------------------------------------------------------------------------------------------ chaos
if [[ " $SCENARIOS " == *" chaos "* ]]; then
  log "chaos: soak ${CHAOS_SECONDS}s, a random silo or gateway killed or stopped every ${CHAOS_EVERY}s"
  soak chaos "$CHAOS_SECONDS"
  end=$(( $(date +%s) + CHAOS_SECONDS - CHAOS_EVERY ))
  while (( $(date +%s) < end )); do
    sleep "$CHAOS_EVERY"
    if (( RANDOM % 2 )); then name=silo$(( RANDOM % SILOS + 1 )); else name=gateway$(( RANDOM % GATEWAYS + 1 )); fi
    if (( RANDOM % 2 )); then sig=KILL; else sig=TERM; fi
    old=$(pid_of "$name"); [[ -n $old ]] || continue
    event "$sig $name"; kill -"$sig" "$old" 2>/dev/null || true
  done
  wait "$SOAK_PID" || log "soak chaos: exit code $?"
  { echo "## Chaos: a random silo or gateway killed (-9) or stopped (TERM) every ${CHAOS_EVERY}s, restarted by its supervisor"; echo; cat "$OUT/chaos.txt"; echo; } >>"$REPORT"
fi

# ------------------------------------------------------------------------------------------------ databases
if [[ " $SCENARIOS " == *" databases "* ]]; then
  DB_CLUSTERS=${DB_CLUSTERS:-1000} DB_PER_CLUSTER=${DB_PER_CLUSTER:-10} DB_WARMUP_CLUSTERS=${DB_WARMUP_CLUSTERS:-200}
  for _ in $(seq 1 100); do curl -fsS -o /dev/null -u x:y -H "$VERSION" "http://127.0.0.1:$INNER_PORT/v2/catalog" && break; sleep 0.2; done
  : >"$OUT/db.tsv"
  # Not measured: the first clusters and databases of a fresh stack pay for JIT tiering of the whole path, the pools
  # and the first activations (session 4: the second round of one stack ran twice as fast per database).
  if (( DB_WARMUP_CLUSTERS > 0 )); then
    log "databases warm-up (not measured): $((DB_WARMUP_CLUSTERS * DB_PER_CLUSTER)) databases in $DB_WARMUP_CLUSTERS clusters"
    "${LOADGEN[@]}" databases --url "$LB" --clusters "$DB_WARMUP_CLUSTERS" --per-cluster "$DB_PER_CLUSTER" --concurrency 64 --prefix "dbwarm" \
      --database-plan-id da90a5b6-1ddd-4d7e-9b65-2da8c8ce37f6 --timeout-seconds 600 --quiet --out "$OUT/db-warmup.kv" >"$OUT/db-warmup.txt" 2>&1 \
      || log "databases warm-up: exit code $? (see $OUT/db-warmup.txt)"
  fi
  for clusters in "$DB_CLUSTERS" $((DB_CLUSTERS * 2)); do
    n=$((clusters * DB_PER_CLUSTER))
    log "databases: $n databases in $clusters clusters through nginx (osb provisioner, fake inner broker, builds 0 s)"
    t0=$(date +%s.%N)
    "${LOADGEN[@]}" databases --url "$LB" --clusters "$clusters" --per-cluster "$DB_PER_CLUSTER" --concurrency 64 --prefix "db$clusters" \
      --database-plan-id da90a5b6-1ddd-4d7e-9b65-2da8c8ce37f6 --timeout-seconds 900 --quiet --out "$OUT/db-$clusters.kv" >"$OUT/db-$clusters.txt" 2>&1 \
      || log "databases $clusters: exit code $? (see $OUT/db-$clusters.txt)"
    t1=$(date +%s.%N)
    kvv() { awk -F= -v k="$2" '$1 == k { print $2 }' "$1"; }
    echo "$clusters $n $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') $(kvv "$OUT/db-$clusters.kv" clusters_wall_s) $(kvv "$OUT/db-$clusters.kv" databases_wall_s) $(kvv "$OUT/db-$clusters.kv" databases_succeeded) $(kvv "$OUT/db-$clusters.kv" databases_put_p50_ms) $(kvv "$OUT/db-$clusters.kv" databases_put_p99_ms)" >>"$OUT/db.tsv"
  done
  {
    echo "## $((DB_CLUSTERS * DB_PER_CLUSTER)) databases in $DB_CLUSTERS clusters, and twice that (through nginx; osb provisioner, one fake inner broker; builds 0 s)"
    echo
    echo "After a warm-up (not measured) of $((DB_WARMUP_CLUSTERS * DB_PER_CLUSTER)) databases in $DB_WARMUP_CLUSTERS clusters (DB_WARMUP_CLUSTERS; 0 for none)."
    echo
    echo "| clusters | databases | total s (clusters + databases) | clusters phase s | databases phase s | databases succeeded | database PUT p50 / p99 ms |"
    echo "|---:|---:|---:|---:|---:|---:|---:|"
    awk '{ printf "| %s | %s | %s | %s | %s | %s | %s / %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$OUT/db.tsv"
    echo
    echo "Doubling ratio (total time of twice the work / total time): $(awk 'NR == 1 { a = $3 } NR == 2 { b = $3 } END { printf "%.2f", (a > 0 ? b / a : 0) }' "$OUT/db.tsv") (target <= 2.2); targets: first row total <= 60 s."
    echo
  } >>"$REPORT"
fi

# ------------------------------------------------------------------------------------------------ memory
if [[ " $SCENARIOS " == *" memory "* ]]; then
  ACTIVATIONS=${ACTIVATIONS:-100000}
  log "memory: $ACTIVATIONS reads of unknown instances (each activates grains), silos' /metrics before and after"
  # Summed over the silos: managed memory (GC.GetTotalMemory) and Orleans' activation count from /metrics (operator
  # Basic auth sent: /metrics may be behind it).
  silo_metric() { # silo_metric REGEX: the sum over the silos of the metric lines matching REGEX
    local i total=0 v
    for i in $(seq 1 "$SILOS"); do
      v=$(curl -fsS --max-time 10 -u "$OPERATOR_USERNAME:$OPERATOR_PASSWORD" "http://127.0.0.1:$((SILO_HTTP_PORT + i - 1))/metrics" \
        | awk -v re="$1" '$0 !~ /^#/ && $1 ~ re { s += $NF } END { printf "%.0f", s }')
      total=$(( total + ${v:-0} ))
    done
    echo "$total"
  }
  curl -fsS --max-time 10 -u "$OPERATOR_USERNAME:$OPERATOR_PASSWORD" "http://127.0.0.1:$SILO_HTTP_PORT/metrics" >"$OUT/metrics-before.txt" || true
  ACT_RE=${ACT_RE:-^microsoft_orleans_orleans_catalog_activations([{]|$)}
  MEM_RE=${MEM_RE:-^dotnet_total_memory_bytes}
  a0=$(silo_metric "$ACT_RE") m0=$(silo_metric "$MEM_RE")
  t0=$(date +%s.%N)
  "${LOADGEN[@]}" activate --url "$LB" --count "$ACTIVATIONS" --concurrency 64 --prefix "mem$(date +%s)" >"$OUT/memory.txt" 2>&1 || log "activate: exit code $?"
  t1=$(date +%s.%N)
  sleep 5   # a GC or two
  a1=$(silo_metric "$ACT_RE") m1=$(silo_metric "$MEM_RE")
  curl -fsS --max-time 10 -u "$OPERATOR_USERNAME:$OPERATOR_PASSWORD" "http://127.0.0.1:$SILO_HTTP_PORT/metrics" >"$OUT/metrics-after.txt" || true
  {
    echo "## Memory per activation ($ACTIVATIONS reads of unknown instance ids through nginx, $SILOS silos)"
    echo
    cat "$OUT/memory.txt"
    echo
    echo "| | before | after | delta |"
    echo "|---|---:|---:|---:|"
    echo "| activations (\`$ACT_RE\`, summed over silos) | $a0 | $a1 | $(( a1 - a0 )) |"
    echo "| managed heap bytes (\`$MEM_RE\`, GC.GetTotalMemory) | $m0 | $m1 | $(( m1 - m0 )) |"
    echo "| **bytes per activation** | | | $(awk -v m=$(( m1 - m0 )) -v a=$(( a1 - a0 )) 'BEGIN { printf "%.0f", a > 0 ? m / a : 0 }') |"
    echo
    echo "Reads took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s. Each unknown id activates the grains last_operation consults (cluster, then database) with empty state;"
    echo "a grain with an instance's state costs more (its state object). GC.GetTotalMemory(false) is not a forced collection: +/- a gen0 budget."
    echo
  } >>"$REPORT"
fi

cp "$REPORT" "$RESULTS/scale-out-latest.md"
cat "$REPORT"
log "written to bench/results/scale-out-latest.md; raw outputs in $OUT"
