#!/bin/bash
# Logs in with the broker's admin account over verified TLS, creates and drops a database.
set -euo pipefail
: "${HOST:?}" "${ADMIN_USERNAME:?}" "${ADMIN_PASSWORD:?}"
db="smoke_$(date +%s)_$$"
export PGPASSWORD="${ADMIN_PASSWORD}" PGCONNECT_TIMEOUT=30
conn="host=${HOST} port=5432 dbname=postgres user=${ADMIN_USERNAME} sslmode=verify-full sslrootcert=tls/ca.pem"
psql "${conn}" -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"${db}\"" -c "DROP DATABASE \"${db}\""
echo "smoke test passed: ${HOST}"
