#!/bin/bash
# Backup of the whole PostgreSQL server (every database and role) into backup/ for the s3 put: pg_dumpall runs on the
# VM as the release's local superuser `vcap` (trusted on 127.0.0.1 by postgres-release's pg_hba.conf), and the dump is
# copied back with `bosh scp`.
# Not BBR: postgres-release's bbr-postgres-db job dumps only the databases listed in the manifest's
# `databases.databases` (jobs/bbr-postgres-db/templates/config.sh.erb at v56.0.1), and the broker creates databases at
# run time, so a BBR backup would contain none of them.
# The bosh CLI reads BOSH_ENVIRONMENT, BOSH_CLIENT, BOSH_CLIENT_SECRET and BOSH_CA_CERT.
set -euo pipefail
: "${DEPLOYMENT_NAME:?}" "${POSTGRES_MAJOR:?}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
if [[ "$(cat state/deployment)" == absent ]]; then
  echo "deployment ${DEPLOYMENT_NAME} does not exist: nothing to back up"
  printf 'no deployment existed at %s\n' "${stamp}" | gzip > "backup/${DEPLOYMENT_NAME}-${stamp}.sql.gz"
  exit 0
fi
pkg="/var/vcap/packages/postgres-${POSTGRES_MAJOR}"
dir=/var/vcap/store/ondemand-backup
bosh -d "${DEPLOYMENT_NAME}" ssh postgres/0 -c "sudo rm -rf ${dir} && sudo install -d -o vcap -m 700 ${dir} \
  && sudo -u vcap env LD_LIBRARY_PATH=${pkg}/lib ${pkg}/bin/pg_dumpall -h 127.0.0.1 -p 5432 -U vcap --clean --if-exists \
     -f ${dir}/dump.sql && sudo gzip ${dir}/dump.sql && sudo chmod 644 ${dir}/dump.sql.gz && sudo chmod 755 ${dir}"
bosh -d "${DEPLOYMENT_NAME}" scp "postgres/0:${dir}/dump.sql.gz" "backup/${DEPLOYMENT_NAME}-${stamp}.sql.gz"
bosh -d "${DEPLOYMENT_NAME}" ssh postgres/0 -c "sudo rm -rf ${dir}"
