#!/bin/bash
# Logs in through the proxies with the broker's admin account over verified TLS, creates and drops a database.
set -euo pipefail
: "${HOST:?}" "${ADMIN_USERNAME:?}" "${ADMIN_PASSWORD:?}"
db="smoke_$(date +%s)_$$"
export MYSQL_PWD="${ADMIN_PASSWORD}"
mysql --host="${HOST}" --port=3306 --user="${ADMIN_USERNAME}" --ssl-mode=VERIFY_IDENTITY --ssl-ca=tls/ca.pem \
  --connect-timeout=30 --execute="CREATE DATABASE \`${db}\`; DROP DATABASE \`${db}\`;"
echo "smoke test passed: ${HOST}"
