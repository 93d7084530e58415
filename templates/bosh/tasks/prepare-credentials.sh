#!/bin/bash
# Before a deploy: puts the broker's cluster admin password (from Concourse's credential manager) into the director's
# CredHub as the deployment's `admin_password` variable, so the manifest only holds ((admin_password)), and writes the
# operator's database CA to tls/ca.pem for the smoke test. The credhub CLI logs in from CREDHUB_SERVER, CREDHUB_CLIENT,
# CREDHUB_SECRET and CREDHUB_CA_CERT.
set -euo pipefail
: "${BOSH_DIRECTOR_NAME:?}" "${DEPLOYMENT_NAME:?}" "${ADMIN_PASSWORD:?}"
credhub set --name "/${BOSH_DIRECTOR_NAME}/${DEPLOYMENT_NAME}/admin_password" --type password \
  --password "${ADMIN_PASSWORD}" >/dev/null
credhub get --name /ondemand-orleans/database_ca --key certificate > tls/ca.pem
[[ -s tls/ca.pem ]] || { echo "/ondemand-orleans/database_ca is missing (see docs/pipelines.md)" >&2; exit 1; }
