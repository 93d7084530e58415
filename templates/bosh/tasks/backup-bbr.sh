#!/bin/bash
# BOSH Backup and Restore of the deployment (postgres-release's bbr-postgres-db job), packed into backup/ for the
# s3 put. bbr 1.9.76 is downloaded and checked against its published sha256 (no image ships it).
set -euo pipefail
: "${BOSH_ENVIRONMENT:?}" "${BOSH_CLIENT:?}" "${BOSH_CLIENT_SECRET:?}" "${BOSH_CA_CERT:?}" "${DEPLOYMENT_NAME:?}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
if [[ "$(cat state/deployment)" == absent ]]; then
  echo "deployment ${DEPLOYMENT_NAME} does not exist: nothing to back up"
  printf 'no deployment existed at %s\n' "${stamp}" | gzip > "backup/${DEPLOYMENT_NAME}-${stamp}.tgz"
  exit 0
fi
version=1.9.76
sha256=e693cef7b253165f83cab5b25b3d58cf082dca1a7d0af724ec162faca2587ee1
wget -q -O /usr/local/bin/bbr \
  "https://github.com/cloudfoundry/bosh-backup-and-restore/releases/download/v${version}/bbr-${version}-linux-amd64"
echo "${sha256}  /usr/local/bin/bbr" | sha256sum -c -
chmod +x /usr/local/bin/bbr
printf '%s\n' "${BOSH_CA_CERT}" > /tmp/director-ca.pem
mkdir -p /tmp/artifacts && cd /tmp/artifacts
bbr deployment --target "${BOSH_ENVIRONMENT}" --username "${BOSH_CLIENT}" --password "${BOSH_CLIENT_SECRET}" \
  --ca-cert /tmp/director-ca.pem --deployment "${DEPLOYMENT_NAME}" backup
cd - >/dev/null
tar -czf "backup/${DEPLOYMENT_NAME}-${stamp}.tgz" -C /tmp/artifacts .
