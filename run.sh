#!/usr/bin/env bash
# OnDemand.Orleans, complete and local, in the foreground:
#   a private PostgreSQL under $DATA_DIR, the sql/ schema, one silo, one gateway on http://127.0.0.1:$PORT,
#   and - unless Concourse__Url is set - the Concourse API EMULATOR from tests/ (not a real Concourse).
# Ctrl-C stops everything it started; state (PostgreSQL data, credentials) survives a restart.
set -euo pipefail
cd "$(dirname "$0")"

DATA_DIR=${DATA_DIR:-.data}
PORT=${PORT:-8080}
PG_PORT=${PG_PORT:-54329}
SILO_HTTP_PORT=${SILO_HTTP_PORT:-8081}
EMULATOR_PORT=${EMULATOR_PORT:-8090}
EMULATOR_BUILD_SECONDS=${EMULATOR_BUILD_SECONDS:-5}
mkdir -p "$DATA_DIR"
DATA_DIR=$(cd "$DATA_DIR" && pwd)
LOG_DIR="$DATA_DIR/logs"
mkdir -p "$LOG_DIR"

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

command -v dotnet >/dev/null || { echo "dotnet (the .NET 10 SDK) is required" >&2; exit 1; }

say "building (Release)"
dotnet build OnDemand.Orleans.sln -c Release -v quiet -nologo -clp:ErrorsOnly >"$LOG_DIR/build.log" 2>&1 || { cat "$LOG_DIR/build.log"; exit 1; }
bin() { echo "$1/bin/Release/net10.0/$2"; }

pids=()
cleanup() {
  trap - INT TERM EXIT
  say "stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/postgres.sh stop "$DATA_DIR/postgres" || true
}
trap cleanup INT TERM EXIT

say "PostgreSQL on 127.0.0.1:$PG_PORT (data in $DATA_DIR/postgres)"
scripts/postgres.sh start "$DATA_DIR/postgres" "$PG_PORT"
export ConnectionStrings__Orleans="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$PGPASSWORD;Database=ondemand;Maximum Pool Size=50"

say "applying sql/"
dotnet "$(bin src/Silo OnDemand.Silo.dll)" migrate

if [[ -z "${Concourse__Url:-}" ]]; then
  say "no Concourse__Url: starting the Concourse API EMULATOR on 127.0.0.1:$EMULATOR_PORT (builds take ${EMULATOR_BUILD_SECONDS}s; not a real Concourse)"
  dotnet "$(bin tests/ConcourseEmulator OnDemand.ConcourseEmulator.dll)" --port "$EMULATOR_PORT" --build-seconds "$EMULATOR_BUILD_SECONDS" \
    --username admin --password admin --team main --state-file "$DATA_DIR/concourse-emulator.json" \
    --cluster-postgres "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$PGPASSWORD;Database=postgres" >"$LOG_DIR/concourse-emulator.log" 2>&1 &
  pids+=($!)
  export Concourse__Url="http://127.0.0.1:$EMULATOR_PORT" Concourse__Team=main Concourse__Username=admin Concourse__Password=admin
  export CredHub__Url="http://127.0.0.1:$EMULATOR_PORT/credhub" CredHub__UaaUrl="http://127.0.0.1:$EMULATOR_PORT/uaa" CredHub__ClientId=broker CredHub__ClientSecret=broker-secret
  # The emulated clusters all live in the local PostgreSQL: their admin endpoints are this server.
  export Databases__Endpoints__postgresql__Host=127.0.0.1 Databases__Endpoints__postgresql__Port="$PG_PORT"
fi

export Broker__Username="$BROKER_USERNAME" Broker__Password="$BROKER_PASSWORD" Broker__DashboardSecret="$DASHBOARD_SECRET"
export Broker__OperatorUsername="$OPERATOR_USERNAME" Broker__OperatorPassword="$OPERATOR_PASSWORD"
export Operator__Username="$OPERATOR_USERNAME" Operator__Password="$OPERATOR_PASSWORD"
export Orleans__ApplySchema=false

say "silo (dashboard and metrics on http://127.0.0.1:$SILO_HTTP_PORT)"
Urls="http://127.0.0.1:$SILO_HTTP_PORT" dotnet "$(bin src/Silo OnDemand.Silo.dll)" > >(tee "$LOG_DIR/silo.log") 2>&1 &
pids+=($!)

say "gateway on http://127.0.0.1:$PORT"
Urls="http://127.0.0.1:$PORT" dotnet "$(bin src/BrokerGateway OnDemand.BrokerGateway.dll)" > >(tee "$LOG_DIR/gateway.log") 2>&1 &
pids+=($!)

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
    dashboard         http://127.0.0.1:$SILO_HTTP_PORT/dashboard   ($OPERATOR_USERNAME / $OPERATOR_PASSWORD)
    metrics           http://127.0.0.1:$SILO_HTTP_PORT/metrics  and  http://127.0.0.1:$PORT/metrics
    Concourse         $Concourse__Url
  Try:
    curl -u $BROKER_USERNAME:$BROKER_PASSWORD -H 'X-Broker-API-Version: 2.15' http://127.0.0.1:$PORT/v2/catalog

  Ctrl-C stops everything; state is kept in $DATA_DIR.

EOM
wait -n "${pids[@]}" || true
