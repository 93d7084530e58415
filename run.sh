#!/usr/bin/env bash
# OnDemand.Orleans, complete and local, in the foreground:
#   a private PostgreSQL under $DATA_DIR, the sql/ schema, one silo, one gateway on http://127.0.0.1:$PORT,
#   and - unless Concourse__Url is set - the Concourse API EMULATOR from tests/ (not a real Concourse).
# Ctrl-C (or TERM), in the foreground or in the background, stops everything it started; state (PostgreSQL data,
# credentials) survives a restart. Each run logs to $DATA_DIR/logs/<UTC time>/ (logs/latest links to it); the last
# KEEP_LOGS (5) runs' logs are kept. Works as root from any folder (scripts/postgres.sh) and as an ordinary user.
# BUILD=0 skips the build and runs the binaries already built under BIN_ROOT (this checkout) for CONFIGURATION
# (Release), e.g. BUILD=0 CONFIGURATION=Debug after `dotnet build tests/Broker.Tests`.
#
# CloudFoundry__ApiUrl, __ClientId, __ClientSecret (and the other CloudFoundry__* settings) are passed through to the
# gateways as they are: with them, databases may use a cluster of another space (docs/sharing.md).
#
# SILOS=N GATEWAYS=M ./run.sh: N silos and M gateways on the one PostgreSQL, each supervised on its own (one that
# dies is restarted after RESTART_DELAY seconds; RESTART=0 only reports it), and with M > 1 nginx on $PORT as the
# load balancer in front of the gateways (docs/scaling-out.md). Ports, counting up from each base:
#   silo i: Orleans SILO_PORT (11111), SILO_GATEWAY_PORT (30000), HTTP SILO_HTTP_PORT (8081);
#   gateway j: GATEWAY_HTTP_PORT (PORT + 100) when behind nginx.
set -euo pipefail

# A background job of a non-interactive shell (`./run.sh &` in a script) starts with SIGINT ignored, and a
# non-interactive bash can neither trap nor reset a signal ignored on entry: run again with SIGINT at its default, so
# that Ctrl-C and `kill -INT` stop a background run too. coreutils >= 8.31 has env --default-signal.
if [[ -z ${ONDEMAND_RUN_SIGINT_RESET:-} ]] && (( 0x$(sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status) & 2 )); then
  if env --default-signal=INT true 2>/dev/null; then
    ONDEMAND_RUN_SIGINT_RESET=1 exec env --default-signal=INT "$BASH" "$0" "$@"
  fi
  echo "run.sh: SIGINT is ignored (a background job) and this env has no --default-signal: stop it with TERM" >&2
fi
unset ONDEMAND_RUN_SIGINT_RESET
cd "$(dirname "$0")"

DATA_DIR=${DATA_DIR:-.data}
PORT=${PORT:-8080}
PG_PORT=${PG_PORT:-54329}
SILO_HTTP_PORT=${SILO_HTTP_PORT:-8081}
EMULATOR_PORT=${EMULATOR_PORT:-8090}
EMULATOR_BUILD_SECONDS=${EMULATOR_BUILD_SECONDS:-5}
SILOS=${SILOS:-1}
GATEWAYS=${GATEWAYS:-1}
[[ $SILOS =~ ^[1-9][0-9]*$ && $GATEWAYS =~ ^[1-9][0-9]*$ ]] || { echo "SILOS and GATEWAYS must be positive numbers" >&2; exit 2; }
MULTI=$(( SILOS > 1 || GATEWAYS > 1 ))
SILO_PORT=${SILO_PORT:-11111}
SILO_GATEWAY_PORT=${SILO_GATEWAY_PORT:-30000}
GATEWAY_HTTP_PORT=${GATEWAY_HTTP_PORT:-$((PORT + 100))}
RESTART=${RESTART:-1}
RESTART_DELAY=${RESTART_DELAY:-2}
KEEP_LOGS=${KEEP_LOGS:-5}
BUILD=${BUILD:-1}
CONFIGURATION=${CONFIGURATION:-Release}
BIN_ROOT=${BIN_ROOT:-$PWD}
[[ $KEEP_LOGS =~ ^[1-9][0-9]*$ ]] || { echo "KEEP_LOGS must be a positive number" >&2; exit 2; }
mkdir -p "$DATA_DIR"
DATA_DIR=$(cd "$DATA_DIR" && pwd)

# Logs: one folder per run, logs/latest -> the newest; only the last KEEP_LOGS runs' folders are kept.
LOG_ROOT="$DATA_DIR/logs"
mkdir -p "$LOG_ROOT"
LOG_DIR="$LOG_ROOT/$(date -u +%Y-%m-%dT%H-%M-%SZ)"
[[ -e $LOG_DIR ]] && LOG_DIR+="-$$"
mkdir "$LOG_DIR"
ln -sfn "$(basename "$LOG_DIR")" "$LOG_ROOT/latest"
mapfile -t old_logs < <(find "$LOG_ROOT" -mindepth 1 -maxdepth 1 -type d -name '[0-9][0-9][0-9][0-9]-*' | sort | head -n "-$KEEP_LOGS")
(( ${#old_logs[@]} == 0 )) || rm -rf -- "${old_logs[@]}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Credentials: from the environment, else generated once and kept in the data folder.
secrets="$DATA_DIR/credentials.env"
if [[ ! -f "$secrets" ]]; then
  gen() { head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' ; }
  umask 077
  cat > "$secrets" <<EOS
BROKER_USERNAME=broker
BROKER_PASSWORD=$(gen)
OPERATOR_USERNAME=operator
OPERATOR_PASSWORD=$(gen)
DASHBOARD_SECRET=$(gen)$(gen)
PGPASSWORD=$(gen)
EOS
fi
# shellcheck disable=SC1090
defaults=$(cat "$secrets")
eval "$(printf '%s\n' "$defaults" | sed 's/^\([A-Z_]*\)=\(.*\)$/: "${\1:=\2}"/')"
export BROKER_USERNAME BROKER_PASSWORD OPERATOR_USERNAME OPERATOR_PASSWORD DASHBOARD_SECRET PGPASSWORD
# The certificate that encrypts the Data Protection key ring at rest (docs/security.md): made once, 0600, kept here.
keyring="$DATA_DIR/keyring.pem"
if [[ -z "${DataProtection__CertificatePath:-}" && ! -f "$keyring" ]]; then
  (umask 077; openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj /CN=ondemand-keyring -keyout "$keyring.key" -out "$keyring.crt" 2>/dev/null \
    && cat "$keyring.crt" "$keyring.key" >"$keyring"; made=$?; rm -f "$keyring.key" "$keyring.crt"; exit $made) || { echo "openssl is required to make $keyring" >&2; exit 1; }
fi
export DataProtection__CertificatePath="${DataProtection__CertificatePath:-$keyring}"

command -v dotnet >/dev/null || { echo "dotnet (the .NET 10 SDK) is required" >&2; exit 1; }
if (( GATEWAYS > 1 )) && ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    say "installing nginx (the load balancer in front of $GATEWAYS gateways)"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get install -y -qq nginx-light || { apt-get update -qq && apt-get install -y -qq nginx-light; } || apt-get install -y -qq nginx; } >"$LOG_DIR/nginx-install.log" 2>&1 \
      || { cat "$LOG_DIR/nginx-install.log"; echo "could not install nginx" >&2; exit 1; }
  else
    echo "GATEWAYS=$GATEWAYS needs nginx as the load balancer: sudo apt-get install -y nginx-light (then run this again)," >&2
    echo "or run with GATEWAYS=1 (SILOS=$SILOS still works: the one gateway serves http://127.0.0.1:$PORT)" >&2
    exit 1
  fi
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

bin() { echo "$BIN_ROOT/$1/bin/$CONFIGURATION/net10.0/$2"; }
if [[ $BUILD == 0 ]]; then
  say "not building (BUILD=0): $CONFIGURATION binaries under $BIN_ROOT"
  for built in "$(bin src/Silo OnDemand.Silo.dll)" "$(bin src/BrokerGateway OnDemand.BrokerGateway.dll)" "$(bin tests/ConcourseEmulator OnDemand.ConcourseEmulator.dll)"; do
    [[ -f $built ]] || { echo "$built is missing: build first, or run without BUILD=0" >&2; exit 1; }
  done
else
  say "building ($CONFIGURATION)"
  dotnet build OnDemand.Orleans.sln -c "$CONFIGURATION" -v quiet -nologo -clp:ErrorsOnly >"$LOG_DIR/build.log" 2>&1 || { cat "$LOG_DIR/build.log"; exit 1; }
fi

pids=()
RUN_DIR="$DATA_DIR/run"
mkdir -p "$RUN_DIR"
rm -f "$RUN_DIR"/*.pid "$RUN_DIR/stopping"
cleanup() {
  trap - INT TERM EXIT
  say "stopping"
  touch "$RUN_DIR/stopping"   # supervisors: do not restart what is being stopped
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/postgres.sh stop "$DATA_DIR/postgres" || true
}
# A stop asked for (Ctrl-C, TERM) is a normal end: exit 0 once everything is stopped, wherever the script was.
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

# supervise NAME COMMAND...: runs COMMAND (output to $LOG_DIR/NAME.log, pid in $RUN_DIR/NAME.pid) in the background
# and, when it dies on its own, says so and starts it again: one process that dies stops nothing else. TERM stops
# the supervisor and its process (which gets TERM: a graceful, bounded shutdown).
supervise() {
  local name=$1; shift
  (
    trap - EXIT
    child=""
    stop() { trap "" TERM INT; [[ -n $child ]] && kill "$child" 2>/dev/null; wait "$child" 2>/dev/null; rm -f "$RUN_DIR/$name.pid"; exit 0; }
    trap stop TERM INT
    while true; do
      "$@" >>"$LOG_DIR/$name.log" 2>&1 &
      child=$!
      echo "$child" >"$RUN_DIR/$name.pid"
      code=0; wait "$child" || code=$?
      child=""
      sleep 0.5   # Ctrl-C reaches every process at once: let run.sh mark the stop first
      [[ -e $RUN_DIR/stopping ]] && exit 0
      if [[ $RESTART != 1 ]]; then
        printf '\033[1;31m==> %s exited (code %s); not restarted (RESTART=%s): stop with Ctrl-C and run again\033[0m\n' "$name" "$code" "$RESTART"
        rm -f "$RUN_DIR/$name.pid"; exit 0
      fi
      printf '\033[1;33m==> %s exited (code %s); restarting in %ss (log: %s)\033[0m\n' "$name" "$code" "$RESTART_DELAY" "$LOG_DIR/$name.log"
      sleep "$RESTART_DELAY" & wait $! || true
      [[ -e $RUN_DIR/stopping ]] && exit 0
    done
  ) &
  pids+=($!)
}

say "PostgreSQL on 127.0.0.1:$PG_PORT (data in $DATA_DIR/postgres)"
scripts/postgres.sh start "$DATA_DIR/postgres" "$PG_PORT"
ln -sfn "$(realpath "$DATA_DIR/postgres")/server.log" "$LOG_DIR/postgres.log"   # the server's own log (kept across runs)
export ConnectionStrings__Orleans="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$PGPASSWORD;Database=ondemand;Maximum Pool Size=50"

say "applying sql/"
dotnet "$(bin src/Silo OnDemand.Silo.dll)" migrate

if [[ -z "${Concourse__Url:-}" ]]; then
  say "no Concourse__Url: starting the Concourse API EMULATOR on 127.0.0.1:$EMULATOR_PORT (builds take ${EMULATOR_BUILD_SECONDS}s; not a real Concourse)"
  # Its secrets go in its environment, not on its command line (ps shows that to every user); only it gets them.
  emulator=(dotnet "$(bin tests/ConcourseEmulator OnDemand.ConcourseEmulator.dll)" --port "$EMULATOR_PORT" --build-seconds "$EMULATOR_BUILD_SECONDS"
    --username admin --team main --state-file "$DATA_DIR/concourse-emulator.json")
  export CONCOURSE_EMULATOR_PASSWORD=admin
  # A deploy build creates the cluster's admin role in the local PostgreSQL (postgresql plans' databases need it);
  # EMULATOR_CLUSTER_ROLES=0 skips that (bench/scale-out.sh's databases scenario, whose databases are not there).
  [[ ${EMULATOR_CLUSTER_ROLES:-1} == 0 ]] \
    || export CONCOURSE_EMULATOR_CLUSTER_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$PGPASSWORD;Database=postgres"
  if (( MULTI )); then
    : >"$LOG_DIR/concourse-emulator.log"
    supervise concourse-emulator "${emulator[@]}"
  else
    "${emulator[@]}" >"$LOG_DIR/concourse-emulator.log" 2>&1 &
    pids+=($!)
  fi
  export -n CONCOURSE_EMULATOR_PASSWORD CONCOURSE_EMULATOR_CLUSTER_POSTGRES
  export Concourse__Url="http://127.0.0.1:$EMULATOR_PORT" Concourse__Team=main Concourse__Username=admin Concourse__Password=admin
  export CredHub__Url="http://127.0.0.1:$EMULATOR_PORT/credhub" CredHub__UaaUrl="http://127.0.0.1:$EMULATOR_PORT/uaa" CredHub__ClientId=broker CredHub__ClientSecret=broker-secret
  # The emulated clusters all live in the local PostgreSQL: their admin endpoints are this server.
  export Databases__Endpoints__postgresql__Host=127.0.0.1 Databases__Endpoints__postgresql__Port="$PG_PORT"
fi

export Broker__Username="$BROKER_USERNAME" Broker__Password="$BROKER_PASSWORD" Broker__DashboardSecret="$DASHBOARD_SECRET"
export Broker__OperatorUsername="$OPERATOR_USERNAME" Broker__OperatorPassword="$OPERATOR_PASSWORD"
export Operator__Username="$OPERATOR_USERNAME" Operator__Password="$OPERATOR_PASSWORD"
export Orleans__ApplySchema=false

if (( ! MULTI )); then
say "silo (dashboard and metrics on http://127.0.0.1:$SILO_HTTP_PORT)"
Urls="http://127.0.0.1:$SILO_HTTP_PORT" dotnet "$(bin src/Silo OnDemand.Silo.dll)" > >(tee "$LOG_DIR/silo.log") 2>&1 &
pids+=($!)

say "gateway on http://127.0.0.1:$PORT"
Urls="http://127.0.0.1:$PORT" dotnet "$(bin src/BrokerGateway OnDemand.BrokerGateway.dll)" > >(tee "$LOG_DIR/gateway.log") 2>&1 &
pids+=($!)
dashboard_url="http://127.0.0.1:$SILO_HTTP_PORT/dashboard"
metrics="http://127.0.0.1:$SILO_HTTP_PORT/metrics  and  http://127.0.0.1:$PORT/metrics"
else
  export Broker__PublicUrl="${Broker__PublicUrl:-http://127.0.0.1:$PORT}"
  for i in $(seq 1 "$SILOS"); do
    http=$((SILO_HTTP_PORT + i - 1)) silo_port=$((SILO_PORT + i - 1)) gw_port=$((SILO_GATEWAY_PORT + i - 1))
    say "silo$i: Orleans ports $silo_port (silo) and $gw_port (gateway), dashboard and metrics on http://127.0.0.1:$http (log $LOG_DIR/silo$i.log)"
    : >"$LOG_DIR/silo$i.log"
    supervise "silo$i" env Urls="http://127.0.0.1:$http" Orleans__SiloPort="$silo_port" Orleans__GatewayPort="$gw_port" dotnet "$(bin src/Silo OnDemand.Silo.dll)"
  done
  gateway_urls=()
  for j in $(seq 1 "$GATEWAYS"); do
    if (( GATEWAYS > 1 )); then http=$((GATEWAY_HTTP_PORT + j - 1)); else http=$PORT; fi
    gateway_urls+=("http://127.0.0.1:$http")
    say "gateway$j on http://127.0.0.1:$http (log $LOG_DIR/gateway$j.log)"
    : >"$LOG_DIR/gateway$j.log"
    supervise "gateway$j" env Urls="http://127.0.0.1:$http" dotnet "$(bin src/BrokerGateway OnDemand.BrokerGateway.dll)"
  done
  if (( GATEWAYS > 1 )); then
    # nginx: round robin over the gateways; passive health checks (a gateway that failed max_fails times in
    # fail_timeout is left out for fail_timeout); a request that reached no gateway (connection refused or reset,
    # no answer, 502) is retried on the next one, which nginx does only for idempotent methods (not POST, PATCH;
    # OSB's PUT and DELETE are idempotent here). Not on a 503: that is a gateway answering that a silo is away,
    # which the other gateway would say too, and counting it as a failure put both gateways out of the upstream
    # for fail_timeout whenever a silo died (all requests 502 for 6 s, measured: docs/scaling-out.md).
    prefix="$DATA_DIR/nginx"
    mkdir -p "$prefix/tmp"
    {
      echo "# generated by run.sh for GATEWAYS=$GATEWAYS (docs/scaling-out.md)"
      echo "pid $prefix/nginx.pid;"
      echo "error_log $LOG_DIR/nginx.log warn;"
      echo "worker_processes 1;"
      echo "events { worker_connections 1024; }"
      echo "http {"
      echo "  access_log off;"
      echo "  client_body_temp_path $prefix/tmp/body; proxy_temp_path $prefix/tmp/proxy;"
      echo "  fastcgi_temp_path $prefix/tmp/fastcgi; uwsgi_temp_path $prefix/tmp/uwsgi; scgi_temp_path $prefix/tmp/scgi;"
      echo "  upstream gateways {"
      for url in "${gateway_urls[@]}"; do echo "    server ${url#http://} max_fails=3 fail_timeout=5s;"; done
      echo "    keepalive 32;"
      echo "  }"
      echo "  server {"
      echo "    listen 127.0.0.1:$PORT;"
      echo "    client_max_body_size 1m; client_body_buffer_size 1m; proxy_max_temp_file_size 0;"
      echo "    location / {"
      echo "      proxy_pass http://gateways;"
      echo "      proxy_http_version 1.1;"
      echo "      proxy_set_header Connection \"\";"
      echo "      proxy_set_header Host \$http_host;"
      echo "      proxy_connect_timeout 2s;"
      echo "      proxy_read_timeout 65s;"
      echo "      proxy_next_upstream error timeout http_502;"
      echo "      proxy_next_upstream_tries 2;"
      echo "      proxy_next_upstream_timeout 15s;"
      echo "    }"
      echo "  }"
      echo "}"
    } >"$prefix/nginx.conf"
    "$NGINX" -t -q -p "$prefix" -c "$prefix/nginx.conf" -e "$LOG_DIR/nginx.log" || { cat "$LOG_DIR/nginx.log"; exit 1; }
    say "nginx on http://127.0.0.1:$PORT in front of ${gateway_urls[*]} (config $prefix/nginx.conf)"
    : >"$LOG_DIR/nginx.log"
    supervise nginx "$NGINX" -p "$prefix" -c "$prefix/nginx.conf" -e "$LOG_DIR/nginx.log" -g "daemon off;"
  fi
  for url in "${gateway_urls[@]}"; do
    for _ in $(seq 1 120); do curl -fsS "$url/health/ready" >/dev/null 2>&1 && break; sleep 0.5; done
  done
  dashboard_url="http://127.0.0.1:$SILO_HTTP_PORT/dashboard (silo1; silo i on port $SILO_HTTP_PORT + i - 1)"
  metrics="each silo's and gateway's /metrics (ports above)"
fi

for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/health/ready" >/dev/null || { echo "the broker did not become ready; see $LOG_DIR" >&2; exit 1; }

cat <<EOM

  OnDemand.Orleans broker is ready
    broker URL        http://127.0.0.1:$PORT
    broker username   $BROKER_USERNAME
    broker password   $BROKER_PASSWORD
    dashboard         $dashboard_url   ($OPERATOR_USERNAME / $OPERATOR_PASSWORD)
    metrics           $metrics
    Concourse         $Concourse__Url
    Cloud Foundry API ${CloudFoundry__ApiUrl:-not configured (CloudFoundry__* from the environment; sharing clusters across spaces is off)}
  Try:
    curl -u $BROKER_USERNAME:$BROKER_PASSWORD -H 'X-Broker-API-Version: 2.15' http://127.0.0.1:$PORT/v2/catalog

  Ctrl-C stops everything; state is kept in $DATA_DIR; this run's logs: $LOG_DIR.

EOM
if (( MULTI )); then
  cat <<EOM
  $SILOS silo(s) and $GATEWAYS gateway(s)$( (( GATEWAYS > 1 )) && echo " behind nginx"); logs in $LOG_DIR, pids in $RUN_DIR.
  Each process is supervised on its own: one that dies is restarted after ${RESTART_DELAY}s (RESTART=0: only reported).
    kill -9 \$(cat $RUN_DIR/silo1.pid)     # lose a silo: its grains move to the others within seconds

EOM
  # Until Ctrl-C or TERM (the supervisors never end on their own).
  while [[ ! -e $RUN_DIR/stopping ]]; do wait || true; sleep 1; done
  exit 0
fi
wait -n "${pids[@]}" || true
