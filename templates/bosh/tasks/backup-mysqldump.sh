#!/bin/bash
# Logical backup of every database through the proxies over verified TLS, into backup/ for the s3 put.
# pxc-release v2.0.5 ships no BOSH Backup and Restore job (no bin/bbr/backup script), so `bbr deployment backup`
# would back up nothing; mysqldump with --single-transaction is a consistent InnoDB snapshot instead.
set -euo pipefail
: "${HOST:?}" "${ADMIN_USERNAME:?}" "${ADMIN_PASSWORD:?}" "${DEPLOYMENT_NAME:?}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
if [[ "$(cat state/deployment)" == absent ]]; then
  echo "deployment ${DEPLOYMENT_NAME} does not exist: nothing to back up"
  printf 'no deployment existed at %s\n' "${stamp}" | gzip > "backup/${DEPLOYMENT_NAME}-${stamp}.sql.gz"
  exit 0
fi
export MYSQL_PWD="${ADMIN_PASSWORD}"
mysqldump --host="${HOST}" --port=3306 --user="${ADMIN_USERNAME}" --ssl-mode=VERIFY_IDENTITY --ssl-ca=tls/ca.pem \
  --all-databases --single-transaction --routines --events --triggers \
  | gzip > "backup/${DEPLOYMENT_NAME}-${stamp}.sql.gz"
